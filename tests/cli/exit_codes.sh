# One failure per exit code of SPEC §2, each with one clear message naming the file and place.
source "$(dirname "$0")/lib.sh.inc"

# 2: usage and config errors
run 2 "$NETTRAIN"
run 2 "$NETTRAIN" train
run 2 "$NETTRAIN" train "$ROOT/configs/blobs.json" --threads 0
sed 's/"units": 16/"untis": 16/' "$ROOT/configs/blobs.json" > typo.json
run 2 "$NETTRAIN" train typo.json --out never
err_has 'typo.json: /model/layers/0/untis: unknown key "untis" (did you mean "units"?)'
[[ ! -e never ]] || fail "a config error left a run directory"
run 2 "$NETTRAIN" validate "$ROOT/configs/blobs.json" --set model.layers.0.units=-3
err_has '/model/layers/0/units: expected a positive integer, got -3'
run 2 "$NETTRAIN" validate "$ROOT/configs/blobs.json" --set model.layers.9.units=3
err_has 'model.layers has 3 elements, index 9 is out of range'
printf '{\n  "model": {\n    "layers": [,]\n  }\n}\n' > syntax.json
run 2 "$NETTRAIN" validate syntax.json
err_has 'syntax.json:3:16'
sed 's/"type": "relu"/"type": "rleu"/' "$ROOT/configs/blobs.json" > unknown.json
run 2 "$NETTRAIN" validate unknown.json
err_has 'unknown layer type "rleu" (did you mean "relu"?)'

run 2 "$NETTRAIN" train "$ROOT/configs/spirals.json" --out never --set 'data.class_names=["only-one"]'
err_has '/data/class_names: expected at least 2 names'
[[ ! -e never ]] || fail "a config error left a run directory"

# 3: data errors
printf 'x,y,color\n1,2,red\n3,4\n' > ragged.csv
sed "s#../data/blobs.csv#$WORK/ragged.csv#" "$ROOT/configs/blobs.json" > ragged.json
run 3 "$NETTRAIN" train ragged.json --out never
err_has 'ragged.csv:3'
[[ ! -e never ]] || fail "a data error left a run directory"

# 4: model-file errors
head -c 100 /dev/urandom > random.safetensors
run 4 "$NETTRAIN" eval random.safetensors --csv "$ROOT/data/blobs.csv"
err_has 'random.safetensors'
run 4 "$NETTRAIN" inspect "$ROOT/configs/blobs.json"

# 5: I/O errors
touch afile
run 5 "$NETTRAIN" train "$ROOT/configs/blobs.json" --out afile/run
err_has 'afile/run'
run 5 "$NETTRAIN" eval does-not-exist.safetensors

# 1: training failed at run time (divergence)
run 1 "$NETTRAIN" train "$ROOT/configs/sine-regression.json" --out diverged --set training.optimizer.lr=1e12 \
  --set training.optimizer.type=sgd
err_has 'diverged at epoch 1'
echo "ok"
