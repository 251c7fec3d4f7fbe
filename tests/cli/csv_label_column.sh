# Our own CSV round-trips: `convert` writes `label,x0,x1,...` and every reader of that CSV
# (convert --to idx, eval --csv, predict --input) takes the column named `label` as the label by
# default; `--label-column` on eval and predict names another.
source "$(dirname "$0")/lib.sh.inc"

# A small IDX image set: 60 images 4x4 (u8) of 3 classes; class c has bright pixels in row c.
python3 - <<'PY'
import gzip, random, struct
random.seed(5)
n, h, w = 60, 4, 4
labels = [7 % 3] + [random.randrange(3) for _ in range(n - 1)]
pix = []
for l in labels:
    for r in range(h):
        for c in range(w):
            pix.append(random.randrange(150, 256) if r == l else random.randrange(0, 60))
open("img.idx", "wb").write(struct.pack(">BBBBIII", 0, 0, 8, 3, n, h, w) + bytes(pix))
open("lab.idx", "wb").write(struct.pack(">BBBBI", 0, 0, 8, 1, n) + bytes(labels))
PY

# IDX -> CSV -> IDX gives back the same bytes, with no --label-column.
run 0 "$NETTRAIN" convert img.idx --labels lab.idx -o img.csv
head -1 img.csv | grep -q "^label,x0,x1," || fail "convert header: $(head -1 img.csv | cut -c1-40)"
run 0 "$NETTRAIN" convert img.csv --to idx --shape 4,4 -o back
cmp img.idx back-images.idx || fail "images differ after IDX -> CSV -> IDX"
cmp lab.idx back-labels.idx || fail "labels differ after IDX -> CSV -> IDX"

# A model trained on the IDX files: eval on the converted CSV finds the label column by name.
cat > idx.json <<JSON
{"name": "tiny", "seed": 1,
 "data": {"train": {"images": "$WORK/img.idx", "labels": "$WORK/lab.idx"},
          "test": {"images": "$WORK/img.idx", "labels": "$WORK/lab.idx"},
          "preprocess": {"scale": 0.00392156862745098}},
 "model": {"input_shape": [16], "layers": [{"type": "affine", "units": 3}]},
 "training": {"epochs": 3, "batch_size": 8, "optimizer": {"type": "sgd", "lr": 0.5}}}
JSON
run 0 "$NETTRAIN" train idx.json --out run -q
run 0 "$NETTRAIN" eval run --json
idx_acc=$(json_get 'j["accuracy"]')
run 0 "$NETTRAIN" eval run --csv img.csv --json
check "$(json_get 'j["samples"]') == 60 and $(json_get 'j["accuracy"]') == $idx_acc" \
  "eval --csv on convert's CSV: $(json_get 'j["accuracy"]') vs $idx_acc on the IDX files"

# predict on the same CSV (label column present) agrees with eval.
run 0 "$NETTRAIN" predict run --input img.csv --output pred.csv
python3 - "$idx_acc" <<'PY' || fail "predict on convert's CSV disagrees with eval"
import csv, sys
truth = [r["label"] for r in csv.DictReader(open("img.csv"))]
pred = [r["predicted"] for r in csv.DictReader(open("pred.csv"))]
acc = sum(p == t for p, t in zip(pred, truth)) / len(truth)
assert len(pred) == 60 and abs(acc - float(sys.argv[1])) < 1e-12, (len(pred), acc, sys.argv[1])
PY

# --label-column on eval and predict: the label in the middle under another name.
python3 - <<'PY'
import csv
rows = list(csv.reader(open("img.csv")))
out = [r[1:9] + [r[0]] + r[9:] for r in rows]
out[0][8] = "klass"
csv.writer(open("mid.csv", "w", newline="")).writerows(out)
PY
run 0 "$NETTRAIN" eval run --csv mid.csv --label-column klass --json
check "$(json_get 'j["accuracy"]') == $idx_acc" "eval --label-column klass"
run 0 "$NETTRAIN" eval run --csv mid.csv --label-column 8 --json
check "$(json_get 'j["accuracy"]') == $idx_acc" "eval --label-column 8"
run 0 "$NETTRAIN" predict run --input mid.csv --label-column klass --output pred2.csv
cmp pred.csv pred2.csv || fail "predict --label-column klass differs from predict on the CSV with 'label' first"
run 3 "$NETTRAIN" eval run --csv mid.csv --label-column klas
err_has 'label column "klas" not found in the header (did you mean "klass"?)'
echo "ok"
