# train -> eval -> predict on a shipped CSV with string labels: the run directory, --json,
# --set, an accuracy bar after a short run, and eval agreeing with predict on the same model.
source "$(dirname "$0")/lib.sh.inc"

run 0 "$NETTRAIN" train "$ROOT/configs/blobs.json" --out run --set training.epochs=2 --json -q
for f in config.json metrics.csv steps.csv curves.svg model.safetensors best.safetensors checkpoint.safetensors summary.json train.log; do
  [[ -s run/$f ]] || fail "run/$f missing or empty"
done
check "$(json_get 'j["epochs"]') == 2" "summary says 2 epochs"
check "$(json_get 'j["final"]["val_accuracy"]') >= 0.85" "val accuracy after 2 epochs on blobs below 0.85: $(json_get 'j["final"]')"
python3 - <<'PY' || fail "metrics.csv malformed"
import csv
rows = list(csv.DictReader(open("run/metrics.csv")))
assert [r["epoch"] for r in rows] == ["1", "2"], rows
assert list(rows[0].keys()) == "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second".split(","), rows[0].keys()
for r in rows:
    float(r["train_loss"]); float(r["val_accuracy"])
PY
# --set reached the resolved config, and defaults were filled in.
python3 -c "import json; c=json.load(open('run/config.json')); assert c['training']['epochs']==2 and c['training']['shuffle'] is True and c['model']['loss']['type']=='softmax_cross_entropy', c" || fail "resolved config.json"

# eval on the training CSV, --json
run 0 "$NETTRAIN" eval run --csv "$ROOT/data/blobs.csv" --json
acc=$(json_get 'j["accuracy"]')
check "$(json_get 'len(j["classes"])') == 3 and $(json_get 'j["classes"][0]["class"] == "blue"')" "eval names the classes blue, green, red"
check "$(json_get 'sum(map(sum, j["confusion"]))') == 900" "confusion matrix counts 900 samples"

# predict on the same CSV: class names, probabilities, and the same accuracy as eval
run 0 "$NETTRAIN" predict run --input "$ROOT/data/blobs.csv" --probs --output pred.csv
head -1 pred.csv | grep -qx "index,predicted,p_blue,p_green,p_red" || fail "predict header: $(head -1 pred.csv)"
python3 - "$ROOT/data/blobs.csv" "$acc" <<'PY' || fail "predict disagrees with eval"
import csv, sys
truth = [r["color"] for r in csv.DictReader(open(sys.argv[1]))]
pred = list(csv.DictReader(open("pred.csv")))
assert len(pred) == len(truth)
acc = sum(p["predicted"] == t for p, t in zip(pred, truth)) / len(truth)
assert abs(acc - float(sys.argv[2])) < 1e-12, (acc, sys.argv[2])
for p in pred:
    s = float(p["p_blue"]) + float(p["p_green"]) + float(p["p_red"])
    assert abs(s - 1) < 1e-4, s
PY

# predict without a label column, to stdout, with --top-k
cut -d, -f1,2 "$ROOT/data/blobs.csv" > features.csv
run 0 "$NETTRAIN" predict run/model.safetensors --input features.csv --top-k 2
[[ $(wc -l < "$WORK/out") -eq 901 ]] || fail "predict printed $(wc -l < "$WORK/out") lines, expected 901"
out_has "index,predicted,top2"
# Integer labels named in the config: eval and predict print the names.
run 0 "$NETTRAIN" train "$ROOT/configs/xor-sigmoid.json" --out named --set training.epochs=1 -q \
  --set 'data.class_names=["same-sign","opposite"]'
run 0 "$NETTRAIN" predict named --input "$ROOT/data/xor.csv"
python3 -c "
import csv; rows = list(csv.DictReader(open('$WORK/out')))
assert len(rows) == 800 and {r['predicted'] for r in rows} <= {'same-sign', 'opposite'}, rows[:3]" || fail "predict does not print the class names"
echo "ok"
