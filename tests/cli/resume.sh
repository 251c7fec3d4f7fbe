# --resume continues a run and ends with the same bytes as a run that was never stopped, with
# metrics.csv and steps.csv continued without duplicate or missing rows.
source "$(dirname "$0")/lib.sh.inc"

cfg="$ROOT/configs/spirals.json"
set_common=(--set training.lr_schedule=constant --set training.log_every_steps=7 -q)
run 0 "$NETTRAIN" train "$cfg" --out whole --set training.epochs=6 "${set_common[@]}"
run 0 "$NETTRAIN" train "$cfg" --out parts --set training.epochs=3 "${set_common[@]}"
run 0 "$NETTRAIN" train --resume parts --set training.epochs=6 -q
cmp whole/model.safetensors parts/model.safetensors || fail "resumed weights differ from the unbroken run's"
diff <(cut -d, -f1-6 whole/metrics.csv) <(cut -d, -f1-6 parts/metrics.csv) || fail "metrics.csv differs"
diff whole/steps.csv parts/steps.csv || fail "steps.csv differs"
# A directory that is not a run cannot be resumed.
mkdir empty
run 5 "$NETTRAIN" train --resume empty
err_has "is it a run directory?"
echo "ok"
