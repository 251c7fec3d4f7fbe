# The bad-input catalogue (tests/bad_inputs/cases.tsv): every malformed config, CSV, IDX and
# model file gives the expected exit code, ONE error line on stderr that names the file and says
# what is wrong, no crash, and no output that pretends to be complete.
#   bad_inputs.sh NETTRAIN ROOT [CASE_NAME_SUBSTRING]
source "$(dirname "$0")/lib.sh.inc"
only=${3:-}
FX=$WORK/fx
python3 "$ROOT/tests/bad_inputs/make_fixtures.py" "$FX" "$ROOT"
run 0 "$NETTRAIN" train "$FX/good.json" --out "$WORK/good" -q
GOOD=$WORK/good/model.safetensors
python3 "$ROOT/tests/bad_inputs/make_fixtures.py" "$FX" "$ROOT" "$GOOD"

n=0 bad=0
while IFS=$'\t' read -r name code file frag cmd; do
  [[ -z $name || $name == \#* ]] && continue
  [[ -z $only || $name == *"$only"* ]] || continue
  n=$((n + 1))
  OUT=$WORK/out-$name
  cmd=${cmd//\{FX\}/$FX}
  cmd=${cmd//\{OUT\}/$OUT}
  cmd=${cmd//\{GOOD\}/$GOOD}
  cmd=${cmd//\{ROOT\}/$ROOT}
  read -ra args <<<"$cmd"
  set +e
  timeout 120 "$NETTRAIN" "${args[@]}" >"$WORK/out" 2>"$WORK/err"
  got=$?
  set -e
  problems=()
  [[ $got -eq $code ]] || problems+=("exit $got, expected $code")
  lines=$(grep -c . "$WORK/err" || true)
  [[ $lines -eq 1 ]] || problems+=("$lines lines on stderr, expected 1")
  grep -q "^nettrain: error: " "$WORK/err" || problems+=("no 'nettrain: error:' line")
  grep -qF -- "$file" "$WORK/err" || problems+=("message does not name $file")
  grep -qF -- "$frag" "$WORK/err" || problems+=("message lacks: $frag")
  left=$(compgen -G "$OUT*" || true)
  [[ -z $left ]] || problems+=("left behind: $left")
  if [[ ${#problems[@]} -gt 0 ]]; then
    bad=$((bad + 1))
    echo "FAIL $name: ${problems[*]}" >&2
    echo "    \$ nettrain $cmd" >&2
    sed 's/^/    | /' "$WORK/err" | head -c 1500 >&2
  fi
done <"$ROOT/tests/bad_inputs/cases.tsv"
[[ $n -gt 0 ]] || fail "no case ran"
[[ $bad -eq 0 ]] || fail "$bad of $n bad-input cases failed"
echo "ok: $n bad-input cases"
