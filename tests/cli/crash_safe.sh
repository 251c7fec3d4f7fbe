# Crash-safe files (SPEC §5): SIGKILL the trainer at many moments; afterwards every file under a
# final name is whole (JSON parses, safetensors open with `nettrain inspect`, CSV rows are whole)
# and --resume from the last checkpoint ends with the bits of an unbroken run. An unwritable
# --out and a full disk give exit 5 naming the path and leave no half-written file.
source "$(dirname "$0")/lib.sh.inc"
source "$ROOT/tests/cli/resume_common.sh.inc"

make_config "$WORK/c.json" '{"type": "adam", "lr": 0.005}' '{"type": "step", "step_size": 2, "gamma": 0.5}' 3
run 0 "$NETTRAIN" train "$WORK/c.json" --out "$WORK/ref" --threads 1 -q
total=$(python3 -c "import json; print(json.load(open('$WORK/ref/summary.json'))['wall_seconds'])")

check_files() {
  local dir=$1
  python3 - "$dir" <<'PY' || fail "$dir: a file under its final name is not whole"
import csv, json, os, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
for name in os.listdir(d):
    p = os.path.join(d, name)
    if ".tmp-" in name or name == "train.log":
        continue
    if name.endswith(".json"):
        json.load(open(p))
    elif name.endswith(".svg"):
        ET.parse(p)
    elif name.endswith(".csv"):
        text = open(p).read()
        assert text == "" or text.endswith("\n"), f"{p}: last row is cut"
        rows = list(csv.reader(text.splitlines()))
        if rows:
            assert all(len(r) == len(rows[0]) for r in rows), f"{p}: ragged rows"
            for r in rows[1:]:
                int(r[0])
PY
  for f in "$dir"/*.safetensors; do
    [[ -e $f ]] || continue
    run 0 "$NETTRAIN" inspect "$f"
  done
}

kills=15 resumed=0
for ((k = 1; k <= kills; k++)); do
  d=$WORK/k$k
  delay=$(python3 -c "print($total * $k / ($kills + 1) + 0.05)")
  "$NETTRAIN" train "$WORK/c.json" --out "$d" --threads 1 -q >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -KILL $pid 2>/dev/null || true
  { wait $pid; } 2>/dev/null || true
  [[ -d $d ]] || continue
  check_files "$d"
  if [[ -f $d/checkpoint.safetensors ]]; then
    run 0 "$NETTRAIN" train --resume "$d" --threads 1 -q
    same_run "$WORK/ref" "$d" "killed after ${delay}s, resumed"
    check_files "$d"
    resumed=$((resumed + 1))
  fi
done
[[ $resumed -ge 3 ]] || fail "only $resumed of $kills kills happened after a checkpoint"
echo "ok: $kills kills, $resumed resumed bit-identically"

# Unwritable --out: under a regular file (chmod does not stop root), and under /proc.
echo "not a folder" >"$WORK/afile"
run 5 "$NETTRAIN" train "$WORK/c.json" --out "$WORK/afile/run" -q
err_has "$WORK/afile/run"
[[ $(wc -l <"$WORK/err") -eq 1 ]] || fail "more than one error line for an unwritable --out"
run 5 "$NETTRAIN" train "$WORK/c.json" --out /proc/nettrain-nope/run -q
err_has "/proc/nettrain-nope/run"

# A full disk: a 1 MiB tmpfs (needs root; skipped otherwise). The checkpoint (weights + Adam
# state) of this model does not fit.
mnt=$WORK/full
mkdir -p "$mnt"
if mount -t tmpfs -o size=1m tmpfs "$mnt" 2>/dev/null; then
  trap 'umount "$mnt" 2>/dev/null; rm -rf "$WORK"' EXIT
  run 5 "$NETTRAIN" train "$WORK/c.json" --out "$mnt/run" --set model.layers.4.units=600 -q
  err_has "$mnt/run/"
  err_has "No space left on device"
  leftovers=$(find "$mnt" -name '*.tmp-*' -o -name model.safetensors -o -name summary.json)
  [[ -z $leftovers ]] || fail "a full disk left: $leftovers"
  check_files "$mnt/run"
  echo "ok: full disk"
else
  echo "skipped: cannot mount a tmpfs (not root?)"
fi
