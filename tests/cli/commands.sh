# validate, inspect, gradcheck, plot and convert: happy paths and their --json output.
source "$(dirname "$0")/lib.sh.inc"

run 0 "$NETTRAIN" validate "$ROOT/configs/spirals.json"
out_has "valid"
out_has "fc1"
out_has "4,482 parameters"
run 0 "$NETTRAIN" validate "$ROOT/configs/spirals.json" --json --set model.layers.0.units=8
check "$(json_get 'j["parameters"]') == 2*8+8 + 8*64+64 + 64*2+2" "validate --json parameter count after --set"
check "$(json_get 'j["data"][0]["samples"]') == 800" "validate counts 800 training samples"

run 0 "$NETTRAIN" gradcheck "$ROOT/configs/spirals.json" --samples 4
out_has "ok: every tensor within"
run 1 "$NETTRAIN" gradcheck "$ROOT/configs/spirals.json" --samples 4 --tolerance 1e-12 --atol 1e-12 --json
check "$(json_get 'j["ok"]') == False" "gradcheck with an impossible tolerance fails"

run 0 "$NETTRAIN" train "$ROOT/configs/xor-sigmoid.json" --out a --set training.epochs=2 -q
run 0 "$NETTRAIN" train "$ROOT/configs/xor-sigmoid.json" --out b --set training.epochs=3 --set training.optimizer.lr=0.05 -q
run 0 "$NETTRAIN" inspect a --json
check "'$(json_get 'j["format"]')' == 'nettrain-model-1'" "inspect format"
check "$(json_get '[t["shape"] for t in j["tensors"] if t["name"]=="hidden.weight"][0]') == [2, 16]" "affine weight saved as [in, out]"
run 0 "$NETTRAIN" plot a b -o both.svg
grep -q "<svg" both.svg || fail "plot wrote no SVG"
grep -q ">a train<" both.svg || fail "plot legend lacks run a"
grep -q ">b val<" both.svg || fail "plot legend lacks run b"

# convert: CSV -> IDX -> CSV -> IDX gives identical IDX bytes.
run 0 "$NETTRAIN" convert "$ROOT/data/xor.csv" --to idx --label-column label -o xor
[[ -s xor-images.idx && -s xor-labels.idx ]] || fail "convert wrote no IDX files"
run 0 "$NETTRAIN" convert xor-images.idx --labels xor-labels.idx -o back.csv
head -1 back.csv | grep -qx "label,x0,x1" || fail "IDX -> CSV header: $(head -1 back.csv)"
run 0 "$NETTRAIN" convert back.csv --to idx --label-column label -o again
cmp xor-images.idx again-images.idx || fail "images differ after a round trip"
cmp xor-labels.idx again-labels.idx || fail "labels differ after a round trip"
# The preprocessing fitted on the training split travels with the model.
run 0 "$NETTRAIN" train "$ROOT/configs/spirals.json" --out sp --set training.epochs=1 -q
run 0 "$NETTRAIN" inspect sp --json
check "$(json_get 'j["preprocess"]["standardize"] and len(j["preprocess"]["mean"]) == 2 and len(j["preprocess"]["std"]) == 2')" \
  "inspect shows the fitted standardize statistics"
echo "ok"
