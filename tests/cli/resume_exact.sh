# --resume ends with the same bits as a run never stopped (SPEC §5), for every optimizer and
# every schedule, with dropout, batchnorm and a validation split:
#   - Ctrl-C (SIGINT) in the middle of an epoch: exit 1, a message saying how to resume;
#   - a crash (SIGKILL) after an epoch's checkpoint: resume from that epoch boundary.
# metrics.csv and steps.csv end with no duplicate or missing rows.
source "$(dirname "$0")/lib.sh.inc"
source "$ROOT/tests/cli/resume_common.sh.inc"

combos=(
  '{"type": "sgd", "lr": 0.05, "momentum": 0.9}|{"type": "cosine", "warmup_epochs": 1}'
  '{"type": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": true, "weight_decay": 0.0001}|{"type": "step", "step_size": 1, "gamma": 0.5}'
  '{"type": "adagrad", "lr": 0.05}|{"type": "exponential", "gamma": 0.7}'
  '{"type": "rmsprop", "lr": 0.002, "momentum": 0.5}|{"type": "reduce_on_plateau", "factor": 0.5, "patience": 1, "threshold": 0.5}'
  '{"type": "adam", "lr": 0.005}|{"type": "constant"}'
  '{"type": "adamw", "lr": 0.005, "weight_decay": 0.01}|{"type": "cosine", "min_lr": 0.0001}'
)

i=0
for combo in "${combos[@]}"; do
  i=$((i + 1))
  opt=${combo%%|*}
  sched=${combo#*|}
  cfg=$WORK/c$i.json
  make_config "$cfg" "$opt" "$sched"
  name="combo $i ($opt, $sched)"

  run 0 "$NETTRAIN" train "$cfg" --out "$WORK/ref$i" --threads 1 -q
  # Half an epoch's training time, from the reference run's metrics.
  half=$(python3 -c "import csv; r=list(csv.DictReader(open('$WORK/ref$i/metrics.csv'))); print(float(r[0]['seconds'])/2)")

  # Ctrl-C mid-epoch: wait for epoch 1's rows, then half an epoch more.
  "$NETTRAIN" train "$cfg" --out "$WORK/int$i" --threads 1 >"$WORK/out" 2>"$WORK/err" &
  pid=$!
  wait_until 60 has_rows "$WORK/int$i/metrics.csv" 2 || fail "$name: epoch 1 never ended"
  sleep "$half"
  kill -INT $pid
  set +e; wait $pid; code=$?; set -e
  [[ $code -eq 1 ]] || { cat "$WORK/err" >&2; fail "$name: SIGINT gave exit $code, expected 1 (run too fast?)"; }
  err_has "interrupted at epoch"
  echo "combo $i: $(grep -o 'interrupted at epoch [0-9]*, step [0-9]*' "$WORK/err") (200 steps per epoch)"
  err_has "--resume $WORK/int$i"
  [[ -f $WORK/int$i/checkpoint.safetensors ]] || fail "$name: no checkpoint after SIGINT"
  [[ ! -f $WORK/int$i/model.safetensors ]] || fail "$name: an interrupted run left model.safetensors"
  run 0 "$NETTRAIN" train --resume "$WORK/int$i" --threads 1 -q
  same_run "$WORK/ref$i" "$WORK/int$i" "$name, SIGINT + resume"

  # Crash after epoch 1's checkpoint: resume from the epoch boundary.
  "$NETTRAIN" train "$cfg" --out "$WORK/kill$i" --threads 1 -q >/dev/null 2>&1 &
  pid=$!
  wait_until 60 test -f "$WORK/kill$i/checkpoint.safetensors" || fail "$name: no checkpoint appeared"
  kill -KILL $pid
  { wait $pid; } 2>/dev/null || true
  run 0 "$NETTRAIN" train --resume "$WORK/kill$i" --threads 1 -q
  same_run "$WORK/ref$i" "$WORK/kill$i" "$name, SIGKILL + resume"
done
echo "ok: $i optimizer/schedule combinations resume bit-identically"
