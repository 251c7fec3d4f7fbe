# gradcheck tells a bug from noise: correct networks with ReLU kinks (fashion-mlp-quick,
# fashion-residual) and an affine followed by batchnorm (a bias whose true gradient is 0) PASS;
# entries whose finite difference crosses a kink are skipped and counted. (A network with a
# deliberately wrong backward FAILs: the unit test "gradcheck: a wrong backward fails".)
source "$(dirname "$0")/lib.sh.inc"

for cfg in fashion-mlp-quick fashion-residual; do
  run 0 "$NETTRAIN" gradcheck "$ROOT/configs/$cfg.json" --json
  check "$(json_get 'j["ok"]')" "$cfg: gradcheck fails on a correct network: $(head -c 2000 "$WORK/out")"
  check "$(json_get 'all(t["checked"] + t["kinks_skipped"] == t["entries"] for t in j["tensors"])')" \
    "$cfg: checked + skipped != entries"
  check "$(json_get 'sum(t["checked"] for t in j["tensors"])') > 0" "$cfg: nothing checked"
done
run 0 "$NETTRAIN" gradcheck "$ROOT/configs/fashion-mlp-quick.json"
out_has "skipped (kink)"
out_has "ok: every tensor within"

# affine -> batchnorm -> relu: fc1.bias has a true gradient of exactly 0.
run 0 "$NETTRAIN" gradcheck "$ROOT/configs/spirals.json" --json --set 'model.layers.1={"type": "batchnorm"}' \
  --set 'model.layers.3={"type": "relu"}'
check "$(json_get 'j["ok"]')" "affine + batchnorm: $(head -c 2000 "$WORK/out")"
check "$(json_get '[t for t in j["tensors"] if t["tensor"] == "fc1.bias"][0]["max_abs_diff"]') < 1e-3" \
  "fc1.bias before batchnorm: $(json_get '[t for t in j["tensors"] if t["tensor"] == "fc1.bias"]')"
# An impossible tolerance still fails.
run 1 "$NETTRAIN" gradcheck "$ROOT/configs/spirals.json" --samples 4 --tolerance 1e-9 --atol 1e-12
out_has "FAILED"
echo "ok"
