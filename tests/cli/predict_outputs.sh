# predict and eval outputs: regression with or without its target columns, --json on stdout,
# and top-k on a single-sigmoid binary model meaning what it means for two softmax classes.
source "$(dirname "$0")/lib.sh.inc"

# Regression: the input may carry the target columns or not (the column count tells).
run 0 "$NETTRAIN" train "$ROOT/configs/sine-regression.json" --out sine --set training.epochs=2 -q
run 0 "$NETTRAIN" predict sine --input "$ROOT/data/sine.csv" --output with.csv
cut -d, -f1 "$ROOT/data/sine.csv" > x_only.csv
run 0 "$NETTRAIN" predict sine --input x_only.csv --output without.csv
head -1 without.csv | grep -qx "index,y0,y1" || fail "regression predict header: $(head -1 without.csv)"
[[ $(wc -l < without.csv) -eq $(wc -l < "$ROOT/data/sine.csv") ]] || fail "predict without targets: $(wc -l < without.csv) lines"
cmp with.csv without.csv || fail "regression predictions differ with and without the target columns"

# --json without --output: one JSON object with a "predictions" array on stdout.
run 0 "$NETTRAIN" predict sine --input x_only.csv --json
check "$(json_get 'len(j["predictions"])') == 1000" "predict --json regression: $(head -c 200 "$WORK/out")"
check "$(json_get 'len(j["predictions"][0]["outputs"])') == 2 and $(json_get 'j["predictions"][0]["index"]') == 0" \
  "predict --json regression row: $(json_get 'j["predictions"][0]')"
run 0 "$NETTRAIN" train "$ROOT/configs/blobs.json" --out blobs --set training.epochs=2 -q
run 0 "$NETTRAIN" predict blobs --input "$ROOT/data/blobs.csv" --json --top-k 2 --probs
cp "$WORK/out" pred.json
python3 - <<'PY' || fail "predict --json classification"
import json
j = json.load(open("pred.json"))
p = j["predictions"]
assert j["samples"] == 900 and len(p) == 900, (j["samples"], len(p))
assert p[0]["index"] == 0 and p[0]["predicted"] in ("red", "green", "blue"), p[0]
assert p[0]["top_k"][0] == p[0]["predicted"] and len(p[0]["top_k"]) == 2, p[0]
assert abs(sum(p[0]["probabilities"].values()) - 1) < 1e-4, p[0]
PY
run 0 "$NETTRAIN" predict blobs --input "$ROOT/data/blobs.csv" --top-k 2 --probs --output pred.csv
python3 - <<'PY' || fail "predict --json and the --output CSV disagree"
import csv, json
rows = list(csv.DictReader(open("pred.csv")))
p = json.load(open("pred.json"))["predictions"]
assert len(rows) == len(p) == 900
for r, q in zip(rows, p):
    assert r["predicted"] == q["predicted"] and r["top2"] == q["top_k"][1], (r, q)
    assert abs(float(r["p_red"]) - q["probabilities"]["red"]) < 1e-5, (r, q)
PY

# Top-k on one sigmoid output: top-1 is the accuracy, top-2 holds both classes (1.0).
run 0 "$NETTRAIN" train "$ROOT/configs/xor-sigmoid.json" --out xor --set training.epochs=1 -q
run 0 "$NETTRAIN" eval xor --csv "$ROOT/data/xor.csv" --top-k 2 --json
check "$(json_get 'j["top_k"]["k"]') == 2 and $(json_get 'j["top_k"]["accuracy"]') == 1.0" \
  "top-2 of a binary sigmoid model: $(json_get 'j["top_k"]') (accuracy $(json_get 'j["accuracy"]'))"
run 0 "$NETTRAIN" eval xor --csv "$ROOT/data/xor.csv" --top-k 1 --json
check "$(json_get 'j["top_k"]["accuracy"] == j["accuracy"]')" "top-1 of a binary sigmoid model is its accuracy"
run 0 "$NETTRAIN" predict xor --input "$ROOT/data/xor.csv" --top-k 2 --probs --output xp.csv
python3 - <<'PY' || fail "predict --top-k 2 on a binary model: top2 is the other class"
import csv
for r in csv.DictReader(open("xp.csv")):
    assert {r["predicted"], r["top2"]} == {"0", "1"}, r
    best = "1" if float(r["p_1"]) > 0.5 else "0"
    assert r["predicted"] == best, r
PY
echo "ok"
