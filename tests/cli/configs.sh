# Every config in configs/ runs as it is: one epoch each (Fashion-MNIST ones need the Debian
# package dataset-fashion-mnist, which scripts/setup.sh installs), then eval on the result.
source "$(dirname "$0")/lib.sh.inc"

for config in "$ROOT"/configs/*.json; do
  name=$(basename "$config" .json)
  run 0 "$NETTRAIN" validate "$config"
  run 0 "$NETTRAIN" train "$config" --out "run-$name" --set training.epochs=1 -q --json
  check "$(json_get 'j["epochs"]') == 1" "$name: one epoch"
  [[ -s "run-$name/model.safetensors" ]] || fail "$name: no model"
  if grep -q '"test"' "$config"; then
    run 0 "$NETTRAIN" eval "run-$name" --json
    check "$(json_get 'j["samples"]') > 0" "$name: eval on the test set"
  fi
done
echo "ok"
