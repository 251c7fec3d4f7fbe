# Same config, seed and thread count -> bit-identical metrics, steps and weights (SPEC §5), with
# one thread and with two.
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
# --seed changes the result.
run 0 "$NETTRAIN" train "$WORK/c.json" --out "$WORK/s" --threads 1 --seed 8 -q
! cmp -s "$WORK/a1/model.safetensors" "$WORK/s/model.safetensors" || fail "--seed 8 gave the same weights as seed 7"
echo ok
