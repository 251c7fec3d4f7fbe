# Faults under mpirun (README "Several processes"): a rank killed with -9 ends the whole job
# within seconds with mpirun's message naming the rank, and the run directory resumes (with
# another process count); Ctrl-C on mpirun checkpoints once and exits 1 with the resume command.
source "$(dirname "$0")/lib.sh.inc"
source "$ROOT/tests/cli/resume_common.sh.inc"
source "$ROOT/tests/cli/mpi_common.sh.inc"

# 100 epochs of 200 steps: long enough that the job is still running when the test acts on it.
mlp_config "$WORK/long.json" 100
sed -i 's/"batch_size": 30/"batch_size": 4/; s/"units": 64/"units": 128/g' "$WORK/long.json"

# start_long DIR: the long run under mpirun in the background ($job), once 3 epochs are written.
start_long() {
  # mpirun itself in the background ($! is its pid), not a function's subshell.
  mpirun -np 2 --oversubscribe --bind-to none "$NETTRAIN" train "$WORK/long.json" --out "$1" --threads 1 \
    >"$WORK/out" 2>"$WORK/err" &
  job=$!
  wait_until 120 has_rows "$1/metrics.csv" 4 || fail "no 3 epochs within 120 s"
}

# The rank-1 process of the job: the nettrain whose environment says OMPI_COMM_WORLD_RANK=1.
rank1_pid() {
  for p in $(pgrep -f "^$NETTRAIN train $WORK/long.json"); do
    tr '\0' '\n' <"/proc/$p/environ" | grep -qx OMPI_COMM_WORLD_RANK=1 && echo "$p" && return
  done
}

start_long "$WORK/k"
pid=$(rank1_pid)
[[ -n $pid ]] || fail "rank 1 not found"
kill -9 "$pid"
# Ends on its own (a hang guard, not a timing assertion: Open MPI ends the job in about 2 s).
for _ in $(seq 600); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
kill -0 "$job" 2>/dev/null && { kill -9 "$job"; fail "the job still runs 60 s after rank 1 was killed"; }
set +e
wait "$job"
code=$?
set -e
[[ $code -ne 0 ]] || fail "a job with a killed rank exited 0"
err_has "process rank 1"
err_has "exited on signal 9"
leftover=$(find "$WORK/k" -name '*.tmp-*')
[[ -z $leftover ]] || fail "half-written files left: $leftover"
# Resumes from the last checkpoint, with one process, and finishes.
run 0 "$NETTRAIN" train --resume "$WORK/k" --threads 1 -q
python3 -c "import json; json.load(open('$WORK/k/summary.json'))" || fail "the resumed run wrote no summary.json"

# Ctrl-C on mpirun: exit 1, one checkpoint, the resume command; resumes with np 2.
start_long "$WORK/i"
kill -INT "$job"
set +e
wait "$job"
code=$?
set -e
[[ $code == 1 ]] || { cat "$WORK/err" >&2; fail "Ctrl-C: expected exit 1, got $code"; }
err_has "interrupted; resume with: nettrain train --resume $WORK/i"
[[ $(grep -c 'error: interrupted' "$WORK/err") == 1 ]] || fail "Ctrl-C should be reported once"
python3 - "$WORK/i/checkpoint.safetensors" "$WORK/i/metrics.csv" <<'PY' || fail "the Ctrl-C checkpoint is not the last state"
import json, struct, sys
b = open(sys.argv[1], "rb").read()
meta = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])["__metadata__"]
state = json.loads(meta["trainer_state"])
epochs = len(open(sys.argv[2]).read().splitlines()) - 1
sys.exit(0 if state["epoch"] == epochs else 1)
PY
run 0 mpi 2 train --resume "$WORK/i" --threads 1 -q
echo ok
