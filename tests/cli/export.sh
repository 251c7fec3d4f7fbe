# nettrain export: every layer type and every shipped config exported to ONNX, checked by the
# onnx package's checker (full_check) and run by ONNX Runtime (npm onnxruntime-node, installed by
# scripts/setup.sh) against `nettrain predict --probs`: argmax agreement 100 %, max |difference|
# <= 1e-5. Fashion-MNIST configs train one epoch on the first 2000 training images and are
# compared on all 10k test images. Then the bad inputs: exit codes, no partial .onnx left.
source "$(dirname "$0")/lib.sh.inc"
PY=/usr/bin/python3  # Debian's python3-onnx lives here, whatever python3 is first on PATH
HELP="$ROOT/tests/cli/onnx_check.py"
ORT="${XDG_CACHE_HOME:-$HOME/.cache}/nettrain/npm/node_modules/onnxruntime-node"
[[ -d "$ORT" ]] || fail "$ORT is missing: run scripts/setup.sh (it installs onnxruntime-node)"
FASHION=/usr/share/datasets/fashion-mnist

# export_and_compare NAME MODEL PREDICT_INPUT FEATURES_CSV_OR_IDX [DROP_COLUMN...]: export with
# --probabilities (plain output for regression), check, run ORT, compare with predict.
export_and_compare() {
  local name=$1 model=$2 input=$3 src=$4
  shift 4
  local outputs="logits,probabilities" flag=--probabilities
  if grep -q '"mse"' <("$NETTRAIN" inspect "$model" --json); then outputs=output; flag=; fi
  run 0 "$NETTRAIN" export "$model" -o "$name.onnx" $flag --json
  local features
  features=$(json_get 'j["inputs"][0]["shape"][1]')
  "$PY" "$HELP" check "$name.onnx" 13 "$features" "$outputs"
  read -r rows cols < <("$PY" "$HELP" features "$src" "$name.f32" "$@")
  [[ $cols == "$features" ]] || fail "$name: $cols feature columns, the export takes $features"
  node "$ROOT/tests/cli/onnx_run.js" "$ORT" "$name.onnx" "$name.f32" "$rows" "$cols" "$name.ort"
  run 0 "$NETTRAIN" predict "$model" --input "$input" --probs --output "$name.pred.csv"
  "$PY" "$HELP" compare "$name.pred.csv" "$name.ort"
}

# --- one small model per layer type, on random data -------------------------------------------
"$PY" "$HELP" random_csv dense.csv 300 6 3
"$PY" "$HELP" random_csv dense-in.csv 200 6
"$PY" "$HELP" random_csv graph.csv 300 7 3
"$PY" "$HELP" random_csv graph-in.csv 200 7
"$PY" "$HELP" random_csv image.csv 200 72 4 --pixels
"$PY" "$HELP" random_csv image-in.csv 100 72 0 --pixels
"$PY" "$HELP" random_csv res.csv 200 100 2
"$PY" "$HELP" random_csv res-in.csv 100 100

config() {  # config NAME DATA PREPROCESS MODEL_JSON: a config training 2 epochs on DATA
  cat >"$1.json" <<JSON
{"name": "$1", "seed": 3,
 "data": {"train": {"path": "$2", "label_column": "label"}, "validation": {"split": 0.2}, "preprocess": $3},
 "model": $4,
 "training": {"epochs": 2, "batch_size": 16, "optimizer": {"type": "adam", "lr": 0.01}}}
JSON
}
# dense layers: affine (with and without bias), leaky_relu, batchnorm on features, sigmoid, tanh,
# dropout, scale, softmax inside the graph; scale and standardize preprocessing.
config dense dense.csv '{"scale": 0.5, "standardize": true}' '{"input_shape": [6], "layers": [
  {"type": "affine", "units": 16}, {"type": "leaky_relu", "slope": 0.2}, {"type": "batchnorm"},
  {"type": "affine", "units": 12}, {"type": "sigmoid"}, {"type": "affine", "units": 10}, {"type": "tanh"},
  {"type": "dropout", "rate": 0.3}, {"type": "scale", "factor": 2, "offset": 0.5},
  {"type": "affine", "units": 8, "bias": false}, {"type": "softmax"}, {"type": "affine", "units": 3}]}'
# a graph over two named inputs: add, mul, exp (base e and base 2), pow, scale (factor or offset only)
config graph graph.csv '{"standardize": true}' '{"inputs": [{"name": "a", "shape": [3]}, {"name": "b", "shape": [4]}],
  "layers": [
  {"type": "affine", "name": "fa", "units": 8, "inputs": ["a"]}, {"type": "tanh", "name": "ta"},
  {"type": "affine", "name": "fb", "units": 8, "inputs": ["b"]}, {"type": "sigmoid", "name": "gate"},
  {"type": "exp", "name": "e", "inputs": ["ta"]}, {"type": "exp", "name": "e2", "base": 2, "inputs": ["ta"]},
  {"type": "pow", "name": "p", "exponent": 1.5, "inputs": ["e"]}, {"type": "add", "name": "s", "inputs": ["p", "e2"]},
  {"type": "mul", "name": "m", "inputs": ["s", "gate"]}, {"type": "scale", "name": "neg", "factor": -1},
  {"type": "scale", "name": "shift", "offset": 0.25}, {"type": "affine", "name": "out", "units": 3}]}'
# images [2, 6, 6] of raw pixels: conv2d ("same", and [2, 3] kernel with stride and explicit
# padding), batchnorm per channel, relu, maxpool2d, avgpool2d with padding, flatten.
config image image.csv '{"scale": 0.00392156862745098}' '{"input_shape": [2, 6, 6], "layers": [
  {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "padding": "same"}, {"type": "batchnorm"},
  {"type": "relu"}, {"type": "maxpool2d", "kernel": 2},
  {"type": "conv2d", "name": "c2", "filters": 3, "kernel": [2, 3], "stride": [1, 2], "padding": [1, 0]},
  {"type": "leaky_relu"}, {"type": "avgpool2d", "kernel": 2, "stride": 1, "padding": 1}, {"type": "flatten"},
  {"type": "affine", "units": 4}]}'
# a residual CNN on [4, 5, 5]: add of a conv output and the raw input (one NCHW, one flat),
# maxpool with stride 2 and padding, an odd-sized avgpool, global_avg_pool, batchnorm after it.
config res res.csv '{"standardize": true}' '{"input_shape": [4, 5, 5], "layers": [
  {"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "padding": "same"},
  {"type": "add", "name": "skip", "inputs": ["c1", "input"]}, {"type": "tanh", "name": "t"},
  {"type": "conv2d", "name": "c2", "filters": 6, "kernel": 2, "stride": 2, "bias": false},
  {"type": "sigmoid", "name": "s2"}, {"type": "maxpool2d", "name": "mp", "kernel": 3, "stride": 2, "padding": 1, "inputs": ["t"]},
  {"type": "avgpool2d", "name": "ap", "kernel": 3, "stride": 2, "inputs": ["t"]},
  {"type": "global_avg_pool", "name": "gap", "inputs": ["mp"]}, {"type": "batchnorm", "name": "bn"},
  {"type": "flatten", "name": "fs", "inputs": ["s2"]}, {"type": "flatten", "name": "fa", "inputs": ["ap"]},
  {"type": "affine", "name": "o1", "units": 2, "inputs": ["bn"]}, {"type": "affine", "name": "o2", "units": 2, "inputs": ["fs"]},
  {"type": "affine", "name": "o3", "units": 2, "inputs": ["fa"]},
  {"type": "add", "name": "o12", "inputs": ["o1", "o2"]}, {"type": "add", "name": "out", "inputs": ["o12", "o3"]}]}'

for name in dense graph image res; do
  run 0 "$NETTRAIN" train "$name.json" --out "run-$name" -q
  export_and_compare "$name" "run-$name" "$name-in.csv" "$name-in.csv"
done

# every layer type of the registry appears in the models above
"$PY" - dense.onnx graph.onnx image.onnx res.onnx <<'PY' || fail "a layer type is not covered"
import onnx, sys
ops = set()
for p in sys.argv[1:]:
    ops |= {n.op_type for n in onnx.load(p).graph.node}
want = {"Gemm", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "BatchNormalization", "Add", "Mul", "Exp",
        "Pow", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Slice", "Sub"}
missing = want - ops
print("ops:", " ".join(sorted(ops)))
sys.exit(f"missing ops: {missing}" if missing else 0)
PY

# --- every shipped config --------------------------------------------------------------------
"$PY" "$HELP" subset "$FASHION/train-images-idx3-ubyte.gz" "$FASHION/train-labels-idx1-ubyte.gz" 2000 fm2k
"$PY" "$HELP" features "$FASHION/t10k-images-idx3-ubyte.gz" t10k.f32 >/dev/null
for config in "$ROOT"/configs/*.json; do
  name=$(basename "$config" .json)
  if grep -q fashion-mnist "$config"; then
    run 0 "$NETTRAIN" train "$config" --out "run-$name" -q --set training.epochs=1 \
      --set data.train.images="$WORK/fm2k-images.gz" --set data.train.labels="$WORK/fm2k-labels.gz"
    export_and_compare "$name" "run-$name" "$FASHION/t10k-images-idx3-ubyte.gz" "$FASHION/t10k-images-idx3-ubyte.gz"
  else
    run 0 "$NETTRAIN" train "$config" --out "run-$name" -q --set training.epochs=1
    data=$("$PY" -c "import json,sys; c=json.load(open(sys.argv[1])); print(c['data']['train']['path'])" "$config")
    drop=$("$PY" -c "import json,sys; t=json.load(open(sys.argv[1]))['data']['train']; print(' '.join(t.get('target_columns', [t.get('label_column', '')])))" "$config")
    # the feature columns alone
    "$PY" - "$ROOT/configs/$data" "$name-in.csv" $drop <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
keep = [i for i, h in enumerate(rows[0]) if h not in sys.argv[3:]]
with open(sys.argv[2], "w", newline="") as f:
    csv.writer(f).writerows([[r[i] for i in keep] for r in rows])
PY
    # predict reads the data file itself (labels and all); ORT gets its feature columns
    export_and_compare "$name" "run-$name" "$ROOT/configs/$data" "$name-in.csv"
  fi
done

# --- options and metadata --------------------------------------------------------------------
# without --probabilities: the logits alone; class names and version in metadata_props
run 0 "$NETTRAIN" export run-fashion-mlp-quick -o quick.onnx
"$PY" "$HELP" check quick.onnx 13 784 logits
"$PY" - quick.onnx "$ROOT/configs/fashion-mlp-quick.json" <<'PY' || fail "metadata_props"
import json, onnx, sys
meta = {p.key: p.value for p in onnx.load(sys.argv[1]).metadata_props}
names = json.load(open(sys.argv[2]))["data"]["class_names"]
assert json.loads(meta["class_names"]) == names, meta["class_names"]
assert meta["loss"] == "softmax_cross_entropy" and meta["nettrain_version"], meta
assert json.loads(meta["inputs"]) == [{"name": "input", "shape": [784]}], meta["inputs"]
PY
err_has "input \"input\" [batch, 784] -> \"logits\" [batch, 10]"
# a higher opset, and a fixed batch size (the checker of Debian's onnx 1.12 knows opsets up to
# 17; ONNX Runtime runs 21)
run 0 "$NETTRAIN" export run-fashion-cnn -o cnn17.onnx --opset 17 --probabilities
"$PY" "$HELP" check cnn17.onnx 17 784 logits,probabilities
node "$ROOT/tests/cli/onnx_run.js" "$ORT" cnn17.onnx fashion-cnn.f32 10000 784 cnn17.ort
"$PY" "$HELP" compare fashion-cnn.pred.csv cnn17.ort
run 0 "$NETTRAIN" export run-image -o image21.onnx --opset 21 --batch 100 --probabilities
node "$ROOT/tests/cli/onnx_run.js" "$ORT" image21.onnx image.f32 100 72 image21.ort
"$PY" "$HELP" compare image.pred.csv image21.ort
run 0 "$NETTRAIN" export run-image -o image-b100.onnx --batch 100 --probabilities
"$PY" "$HELP" check image-b100.onnx 13 72 logits,probabilities 100
head -c $((50 * 72 * 4)) image.f32 >image50.f32
set +e
node "$ROOT/tests/cli/onnx_run.js" "$ORT" image-b100.onnx image50.f32 50 72 image50.ort 2>"$WORK/err"
got=$?
set -e
[[ $got -ne 0 ]] || fail "ONNX Runtime ran a batch of 50 through a model fixed to 100"

# --- bad input: the usual exit codes, one error line, no .onnx left behind -------------------
no_onnx() { [[ -z $(find . -maxdepth 2 -name "$1*") ]] || fail "left behind: $(find . -name "$1*")"; }
echo "not a model" >notamodel.safetensors
run 4 "$NETTRAIN" export notamodel.safetensors -o bad1.onnx
err_has "notamodel.safetensors"
no_onnx bad1
# a model whose stored architecture says 17 units where the tensors have 16
"$PY" - run-dense/model.safetensors mismatch.safetensors <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
config = json.loads(header["__metadata__"]["config"])
config["model"]["layers"][0]["units"] = 17
header["__metadata__"]["config"] = json.dumps(config)
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(h)) + h + raw[8 + n:])
PY
run 4 "$NETTRAIN" export mismatch.safetensors -o bad2.onnx
err_has "mismatch.safetensors"
no_onnx bad2
# unwritable outputs: under a regular file (chmod does not stop root), and under /proc
echo "not a folder" >afile
run 5 "$NETTRAIN" export run-dense -o afile/bad3.onnx
err_has "afile/bad3.onnx"
[[ $(wc -l <"$WORK/err") -eq 1 ]] || fail "more than one error line for an unwritable output"
run 5 "$NETTRAIN" export run-dense -o /proc/nettrain-nope/bad4.onnx
err_has "/proc/nettrain-nope/bad4.onnx"
# usage: an opset out of range, a missing -o, --probabilities on a regression model
run 2 "$NETTRAIN" export run-dense -o bad5.onnx --opset 12
no_onnx bad5
run 2 "$NETTRAIN" export run-dense
run 2 "$NETTRAIN" export run-sine-regression -o bad6.onnx --probabilities
err_has "regression"
no_onnx bad6
# a full disk: a 1 MiB tmpfs cannot hold fashion-mlp's export (needs root; skipped otherwise)
mkdir -p full
if mount -t tmpfs -o size=1m tmpfs full 2>/dev/null; then
  trap 'umount "$WORK/full" 2>/dev/null || true; rm -rf "$WORK"' EXIT
  run 5 "$NETTRAIN" export run-fashion-mlp -o full/big.onnx
  err_has "No space left on device"
  [[ -z $(ls -A full) ]] || fail "a full disk left: $(ls -A full)"
  umount full
  trap 'rm -rf "$WORK"' EXIT
  echo "ok: full disk"
else
  echo "skipped: cannot mount a tmpfs (not root?)"
fi

echo "ok"
