# Fine-tuning and best weights (issue 12): model.init_from loads tensors by name, model.freeze
# keeps layers' weights bit-identical (also under momentum and weight decay), bad names and shapes
# are refused before anything is written; training.restore_best_weights makes model.safetensors
# the best epoch's weights; early stopping says so in the log.
source "$(dirname "$0")/lib.sh.inc"

cat >base.json <<JSON
{
  "name": "base", "seed": 5,
  "data": {"train": {"format": "csv", "path": "$ROOT/data/spirals.csv"}, "validation": {"split": 0.2}},
  "model": {"input_shape": [2], "layers": [
    {"type": "affine", "name": "fc1", "units": 16}, {"type": "relu"},
    {"type": "affine", "name": "fc2", "units": 16}, {"type": "relu"},
    {"type": "affine", "name": "head", "units": 3}]},
  "training": {"epochs": 3, "batch_size": 16, "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}}
}
JSON
run 0 "$NETTRAIN" train base.json --out base -q
# A new head (other name) on the base's fc1 and fc2; fc1 frozen.
run 0 "$NETTRAIN" train base.json --out tuned --set model.init_from=base --set 'model.freeze=["fc1"]' \
  --set model.layers.4.name=new_head
err_has "2 kept their initialisation (new_head.weight, new_head.bias)"
grep -q "init_from .*base/model.safetensors: 4 tensors loaded" tuned/train.log || fail "train.log lacks the init_from line"
python3 - base/model.safetensors tuned/model.safetensors <<'PY' || fail "freeze/init_from did not do what they say"
import json, struct, sys
def tensors(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); h.pop("__metadata__")
    return {k: b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in h.items()}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
assert a["fc1.weight"] == b["fc1.weight"] and a["fc1.bias"] == b["fc1.bias"], "frozen fc1 changed"
assert a["fc2.weight"] != b["fc2.weight"], "fc2 (loaded, not frozen) did not train"
assert "new_head.weight" in b and "head.weight" not in b
PY

# Refused before any file is written.
run 2 "$NETTRAIN" train base.json --out bad1 --set 'model.freeze=["fc3"]' -q
err_has '/model/freeze/0: no layer is named "fc3" (did you mean "fc1"?)'
run 2 "$NETTRAIN" train base.json --out bad2 --set 'model.freeze=["layers.1"]' -q
err_has 'layer "layers.1" has no parameters to freeze'
run 4 "$NETTRAIN" train base.json --out bad3 --set model.init_from=base --set model.layers.0.units=8 -q
err_has 'tensor "fc1.weight": expected shape [2, 8], got [2, 16]'
run 4 "$NETTRAIN" train base.json --out bad4 --set model.init_from=base --set model.layers.0.name=a \
  --set model.layers.2.name=b --set model.layers.4.name=c -q
err_has "none of its tensors has a name of this network's"
[[ ! -e bad1 && ! -e bad2 && ! -e bad3 && ! -e bad4 ]] || fail "a refused run left a run directory"

# Early stopping with restore_best_weights: model.safetensors holds best.safetensors' tensors.
run 0 "$NETTRAIN" train base.json --out es --set training.epochs=80 --set training.optimizer.lr=0.5 \
  --set 'training.early_stopping={"patience": 2, "min_delta": 0.01}' --set training.restore_best_weights=true
err_has "stopped early at epoch"
err_has "restored the best epoch's weights"
python3 - es <<'PY' || fail "restore_best_weights did not restore the best epoch"
import json, struct, sys
def tensors(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); h.pop("__metadata__")
    return {k: b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in h.items()}
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
assert s["stopped_early"] and s["restored_best_weights"] and s["best_epoch"] < s["epochs"], s
assert tensors(d + "/model.safetensors") == tensors(d + "/best.safetensors")
PY
grep -q "best epoch" es/curves.svg || fail "curves.svg does not mark the best epoch"
# eval/predict --best use the run's best.safetensors.
run 0 "$NETTRAIN" eval base --best --csv "$ROOT/data/spirals.csv" --json
best_acc=$(json_get 'j["accuracy"]')
run 0 "$NETTRAIN" eval base/best.safetensors --csv "$ROOT/data/spirals.csv" --json
[[ $(json_get 'j["accuracy"]') == "$best_acc" ]] || fail "eval --best is not best.safetensors"
run 0 "$NETTRAIN" predict base --best --input "$ROOT/data/spirals.csv" --output p.csv
run 2 "$NETTRAIN" eval base/model.safetensors --best
err_has "--best takes a run directory"
# Without validation or early stopping there is no best epoch to restore.
run 2 "$NETTRAIN" train base.json --out nobest --set data.validation=null --set training.restore_best_weights=true -q
err_has "restore_best_weights: needs a validation split or early_stopping"
echo ok
