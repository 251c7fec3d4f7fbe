# data.augment (shifts and flips) and model.label_smoothing, end to end on a tiny image set:
# augmentation changes training, stays the same bits on 1 and 2 threads, and a run continued
# with --resume draws the same shifts as one never stopped; bad settings are exit 2 naming the key.
source "$(dirname "$0")/lib.sh.inc"
source "$ROOT/tests/cli/resume_common.sh.inc"

# 600 images of 8x8: class 1 has a bright 3x3 square somewhere, class 0 a bright bar.
python3 - "$WORK/img.csv" <<'PY'
import random, sys
r = random.Random(3)
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"p{i}" for i in range(64)) + ",label\n")
    for n in range(600):
        img = [r.randint(0, 40) for _ in range(64)]
        y, x = r.randint(0, 5), r.randint(0, 5)
        cells = [(y + a, x + b) for a in range(3) for b in range(3)] if n % 2 else [(y + 1, x + b) for b in range(3)]
        for (a, b) in cells:
            img[a * 8 + b] = 255
        f.write(",".join(map(str, img)) + f",{n % 2}\n")
PY

config() {  # config FILE AUGMENT_JSON EPOCHS [INPUT_SHAPE]
  cat >"$1" <<JSON
{
  "seed": 5,
  "data": {"train": {"path": "$WORK/img.csv"}, "validation": {"split": 0.2},
           "preprocess": {"scale": 0.00392156862745098}, "augment": $2},
  "model": {"input_shape": ${4:-[1, 8, 8]}, "label_smoothing": 0.1,
            "layers": [{"type": "conv2d", "filters": 6, "kernel": 3, "padding": "same"}, {"type": "relu"},
                       {"type": "flatten"}, {"type": "affine", "units": 2}]},
  "training": {"epochs": $3, "batch_size": 16, "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9}}
}
JSON
}

config "$WORK/aug.json" '{"shift": 2, "flip": true}' 4
config "$WORK/plain.json" '{"shift": 0}' 4
run 0 "$NETTRAIN" train "$WORK/aug.json" --out "$WORK/a1" --threads 1 -q
run 0 "$NETTRAIN" train "$WORK/aug.json" --out "$WORK/a2" --threads 2 -q
same_run "$WORK/a1" "$WORK/a2" "augment, 1 vs 2 threads"
run 0 "$NETTRAIN" train "$WORK/plain.json" --out "$WORK/p" --threads 1 -q
cmp -s "$WORK/a1/model.safetensors" "$WORK/p/model.safetensors" && fail "augment changed nothing"
# It still learns the task (the shapes are shift-invariant).
acc=$(python3 -c "import csv; print(list(csv.DictReader(open('$WORK/a1/metrics.csv')))[-1]['val_accuracy'])")
check "$acc > 0.85" "augmented run reached val_accuracy $acc, expected > 0.85"

# Two epochs, then --resume to four: the same bits as four straight.
run 0 "$NETTRAIN" train "$WORK/aug.json" --out "$WORK/r" --set training.epochs=2 --threads 1 -q
run 0 "$NETTRAIN" train --resume "$WORK/r" --set training.epochs=4 --threads 1 -q
cmp -s "$WORK/a1/model.safetensors" "$WORK/r/model.safetensors" || fail "augment: resumed run differs from an unbroken one"

# Bad settings.
config "$WORK/flat.json" '{"shift": 2}' 1 '[64]'
sed -i 's/"type": "conv2d", "filters": 6, "kernel": 3, "padding": "same"/"type": "affine", "units": 6/' "$WORK/flat.json"
run 2 "$NETTRAIN" train "$WORK/flat.json" --out "$WORK/f" -q
err_has "/data/augment"
err_has "got [64]"
[[ ! -e $WORK/f ]] || fail "a refused config left a run directory"
run 2 "$NETTRAIN" train "$WORK/aug.json" --out "$WORK/b" --set 'data.augment={"shift": 1, "rotate": 5}' -q
err_has "rotate"
run 2 "$NETTRAIN" train "$WORK/aug.json" --out "$WORK/b" --set 'data.augment={"shift": 8}' -q
err_has "/data/augment/shift: must be smaller than the image (8x8), got 8"
run 2 "$NETTRAIN" train "$WORK/aug.json" --out "$WORK/b" --set model.label_smoothing=-0.1 -q
err_has "/model/label_smoothing: must be in [0, 1)"
echo "ok: augment and label smoothing"
