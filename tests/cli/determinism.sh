# Same config, seed and thread count -> bit-identical metrics, steps and weights (SPEC §5), with
# one thread and with two, for small layers, for layers large enough that their work is split
# over the threads, and for a CNN.
source "$(dirname "$0")/lib.sh.inc"
source "$ROOT/tests/cli/resume_common.sh.inc"

make_config "$WORK/c.json" '{"type": "adam", "lr": 0.005}' '{"type": "cosine", "warmup_epochs": 1}' 2
for threads in 1 2; do
  run 0 "$NETTRAIN" train "$WORK/c.json" --out "$WORK/a$threads" --threads $threads -q
  run 0 "$NETTRAIN" train "$WORK/c.json" --out "$WORK/b$threads" --threads $threads -q
  same_run "$WORK/a$threads" "$WORK/b$threads" "--threads $threads twice"
  # Checkpoints: same tensors (weights, optimizer state) and state; only run_files (byte sizes
  # of the CSVs, whose wall-time columns vary in length) may differ.
  python3 - "$WORK/a$threads/checkpoint.safetensors" "$WORK/b$threads/checkpoint.safetensors" <<'PY' ||
import json, struct, sys
def load(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    h["__metadata__"].pop("run_files", None)
    return h, b[8 + n:]
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
PY
    fail "--threads $threads twice: checkpoint.safetensors differs"
done
# Layers large enough that their work is split: 200x1024x1024 products in chunks over 2 threads,
# batchnorm over channel ranges, relu, the optimizer and the guard over element ranges (dropout
# draws its mask on one thread).
UNITS=1024 make_config "$WORK/wide.json" '{"type": "sgd", "lr": 0.01, "momentum": 0.9}' '{"type": "constant"}' 2
python3 - "$WORK/wide.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["training"]["batch_size"] = 200; c["training"]["log_every_steps"] = 1
json.dump(c, open(sys.argv[1], "w"))
PY
for threads in 1 2; do
  run 0 "$NETTRAIN" train "$WORK/wide.json" --out "$WORK/wa$threads" --threads $threads -q
  run 0 "$NETTRAIN" train "$WORK/wide.json" --out "$WORK/wb$threads" --threads $threads -q
  same_run "$WORK/wa$threads" "$WORK/wb$threads" "wide layers, --threads $threads twice"
done
# The work is split in chunks fixed by the shapes, so the thread count does not change the bits.
same_run "$WORK/wa1" "$WORK/wa2" "wide layers, --threads 1 and --threads 2"

# A CNN whose first convolution runs in several chunks of samples at once (8x8 images, batch 128)
# and whose second (16 to 16 channels, 3x3) runs Winograd's F(2x2, 3x3): the same bits twice on
# two threads, and the same bits as on one thread (conv2d adds its chunks' weight gradients in
# chunk order; its affine product is too small to be split).
python3 - "$WORK/img.csv" <<'PY'
import random, sys
random.seed(3)
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"p{i}" for i in range(64)) + ",label\n")
    for n in range(500):  # 4 batches, the last of 116: a partial chunk of samples
        k = n % 4
        px = [min(255, max(0, int(60 * k + random.gauss(0, 40)))) if (i // 8 + i % 8) % 4 == k else random.randint(0, 60)
              for i in range(64)]
        f.write(",".join(map(str, px)) + f",{k}\n")
PY
cat >"$WORK/cnn.json" <<JSON
{"name": "det-cnn", "seed": 5,
 "data": {"train": {"format": "csv", "path": "$WORK/img.csv"}, "preprocess": {"scale": 0.00392156862745098}},
 "model": {"input_shape": [1, 8, 8], "layers": [
   {"type": "conv2d", "name": "conv1", "filters": 16, "kernel": 3, "padding": "same"},
   {"type": "batchnorm"}, {"type": "relu"}, {"type": "maxpool2d"},
   {"type": "conv2d", "name": "conv2", "filters": 16, "kernel": 3, "padding": "same"},
   {"type": "relu"}, {"type": "avgpool2d"}, {"type": "dropout", "rate": 0.2}, {"type": "flatten"},
   {"type": "affine", "name": "out", "units": 4}]},
 "training": {"epochs": 2, "batch_size": 128, "log_every_steps": 1, "optimizer": {"type": "adam", "lr": 0.01}}}
JSON
run 0 "$NETTRAIN" train "$WORK/cnn.json" --out "$WORK/ca2" --threads 2 -q
run 0 "$NETTRAIN" train "$WORK/cnn.json" --out "$WORK/cb2" --threads 2 -q
same_run "$WORK/ca2" "$WORK/cb2" "cnn, --threads 2 twice"
run 0 "$NETTRAIN" train "$WORK/cnn.json" --out "$WORK/c1" --threads 1 -q
same_run "$WORK/ca2" "$WORK/c1" "cnn, --threads 2 and --threads 1"

# --seed changes the result.
run 0 "$NETTRAIN" train "$WORK/c.json" --out "$WORK/s" --threads 1 --seed 8 -q
! cmp -s "$WORK/a1/model.safetensors" "$WORK/s/model.safetensors" || fail "--seed 8 gave the same weights as seed 7"
echo ok
