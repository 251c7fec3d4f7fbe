# nettrain report and nettrain compare, as a person would see them: a 3-run learning-rate sweep
# (blobs, with a test set), compare as JSON, CSV, an aligned text table and an HTML page, the
# report of a run and of a regression run, folders that are not runs (with and without
# --skip-bad), an unfinished run, both pages rendered in headless chromium, and a Fashion-MNIST
# report with its image gallery under 2 MB.
source "$(dirname "$0")/lib.sh.inc"

# no_urls FILE: the page refers to nothing on the network.
no_urls() { if grep -qE 'https?://' "$1"; then grep -oE '.{30}https?://.{30}' "$1" | head -3 >&2; fail "$1 refers to a URL"; fi; }
# screenshot HTML PNG: renders the page at 1280x2000 and checks the picture is not blank.
screenshot() {
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot="$2" --window-size=1280,2000 \
    "file://$1" >/dev/null 2>&1 || fail "chromium could not render $1"
  python3 "$ROOT/tests/cli/png_check.py" "$2" 1280 2000 || fail "screenshot of $1"
}

test_set="{\"path\": \"$ROOT/data/blobs.csv\", \"label_column\": \"color\"}"
for lr in 0.001 0.01 0.1; do
  run 0 "$NETTRAIN" train "$ROOT/configs/blobs.json" --out "runs/lr-$lr" --set training.optimizer.lr=$lr \
    --set training.epochs=4 --set "data.test=$test_set" -q --threads 1
  [[ -s runs/lr-$lr/report.html ]] || fail "train wrote no report.html in runs/lr-$lr"
done
no_urls runs/lr-0.01/report.html
grep -q "Confusion matrix" runs/lr-0.01/report.html || fail "report.html lacks the confusion matrix"

# compare --json: exactly the changed key, one row per run, best val_loss first.
run 0 "$NETTRAIN" compare runs/lr-* --json
check "$(json_get 'j["changed_keys"]') == ['training.optimizer.lr']" "compare --json lists exactly the changed key"
check "$(json_get 'len(j["runs"])') == 3" "compare --json has one row per run"
check "$(json_get 'sorted(r["training.optimizer.lr"] for r in j["runs"])') == [0.001, 0.01, 0.1]" "the rows carry the lr"
check "$(json_get '[r["best_val_loss"] for r in j["runs"]] == sorted(r["best_val_loss"] for r in j["runs"])')" \
  "rows sorted by best val_loss"
check "$(json_get 'all(r["status"] == "finished" and r["test_accuracy"] is not None for r in j["runs"])')" \
  "every run finished with a test accuracy"
check "'$(json_get 'j["runs"][0]["legend"]')'.startswith('lr=')" "legend names the run by its changed key"

# --sort by any column; --csv read back by python's csv module as a table.
run 0 "$NETTRAIN" compare runs/lr-* --sort training.optimizer.lr --csv
python3 - "$WORK/out" <<'PY' || fail "compare --csv"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 3, rows
assert [float(r["training.optimizer.lr"]) for r in rows] == [0.001, 0.01, 0.1], rows
assert all(float(r["test_accuracy"]) > 0 for r in rows)
assert all(int(r["parameters"]) > 0 for r in rows)
PY
run 2 "$NETTRAIN" compare runs/lr-* --sort nonsense
err_has "--sort nonsense: no such column"
run 2 "$NETTRAIN" compare runs/lr-* --json --csv
err_has "give --json or --csv, not both"

# The text table: every line as wide as the header, columns starting where their header does.
run 0 "$NETTRAIN" compare runs/lr-*
python3 - "$WORK/out" <<'PY' || fail "compare text table is not aligned"
import sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 4, lines
header = lines[0]
assert "training.optimizer.lr" in header and "best_val_loss" in header, header
assert len({len(l) for l in lines}) == 1, [len(l) for l in lines]
start = header.index("status")
assert all(l[start:].startswith("finished") for l in lines[1:]), lines
assert all(l[start - 2:start] == "  " for l in lines[1:]), lines
PY

# The HTML page: table, overlaid curves named by their keys, nothing from the network.
run 0 "$NETTRAIN" compare runs/lr-* -o sweep.html
no_urls sweep.html
grep -q ">lr=0.001 train<" sweep.html || fail "compare page legend lacks lr=0.001"
grep -q "class=\"sortable\"" sweep.html || fail "compare page table is not sortable"

# nettrain report to another file, on other data, and its --json.
run 0 "$NETTRAIN" report runs/lr-0.1 -o r.html --csv "$ROOT/data/blobs.csv" --json
check "'$(json_get 'j["output"]')' == 'r.html'" "report --json names the file"
no_urls r.html
for text in "Per class" "top-" "Training curves" "best epoch" "Resolved config" "fc" "Learning rate"; do
  grep -qF "$text" r.html || fail "report lacks '$text'"
done

# Bad input: an empty folder, a metrics.csv cut mid-line, a summary.json that is not JSON.
mkdir empty
cp -r runs/lr-0.01 cut
python3 -c "
s = open('runs/lr-0.01/metrics.csv').read(); last = s.rstrip('\\n').rfind('\\n') + 1
open('cut/metrics.csv', 'w').write(s[:last + 12])"
cp -r runs/lr-0.01 notjson && echo '{"name": ' >notjson/summary.json
run 5 "$NETTRAIN" compare runs/lr-0.01 empty
err_has "empty: not a run directory (no config.json in it)"
run 5 "$NETTRAIN" compare runs/lr-0.01 cut
err_has "cut/metrics.csv:5: expected 8 fields"
run 5 "$NETTRAIN" compare notjson runs/lr-0.01
err_has "notjson/summary.json: not valid JSON"
run 5 "$NETTRAIN" report empty
err_has "empty: not a run directory"
run 0 "$NETTRAIN" compare runs/lr-* empty cut notjson --skip-bad --json
check "$(json_get 'len(j["runs"])') == 3" "--skip-bad still reports the three good runs"
for name in empty cut/metrics.csv notjson/summary.json; do err_has "$name"; done
run 5 "$NETTRAIN" compare empty --skip-bad
err_has "no run to compare"

# A run that is still going (no summary.json yet) is compared and reported, and says so.
cp -r runs/lr-0.01 going && rm going/summary.json going/model.safetensors
run 0 "$NETTRAIN" compare runs/lr-0.1 going --json
check "'unfinished' in $(json_get '[r["status"] for r in j["runs"]]')" "the unfinished run says so"
run 0 "$NETTRAIN" report going
grep -q "not yet" going/report.html || fail "report of an unfinished run does not say so"

# A report that cannot be written after a finished run: exit 5, saying the run is complete.
mkdir -p blocked/report.html
run 5 "$NETTRAIN" train "$ROOT/configs/xor-sigmoid.json" --out blocked --set training.epochs=1 -q
err_has "the run in blocked is complete, but its report.html was not written"
[[ -s blocked/model.safetensors && -s blocked/summary.json ]] || fail "the finished run's files are missing"

# Regression: predicted vs true and the residuals.
run 0 "$NETTRAIN" train "$ROOT/configs/sine-regression.json" --out sine --set training.epochs=3 \
  --set "data.test={\"path\": \"$ROOT/data/sine.csv\", \"task\": \"regression\", \"target_columns\": [\"sin\", \"cos\"]}" -q
grep -q "Predicted vs true" sine/report.html || fail "regression report lacks predicted vs true"
grep -q "Residuals" sine/report.html || fail "regression report lacks the residual histogram"
no_urls sine/report.html

# Fashion-MNIST, one epoch: the gallery of confident mistakes, and the page under 2 MB.
run 0 "$NETTRAIN" train "$ROOT/configs/fashion-mlp-quick.json" --out fashion --set training.epochs=1 -q
size=$(stat -c %s fashion/report.html)
[[ $size -lt 2000000 ]] || fail "Fashion-MNIST report.html is $size bytes, over 2 MB"
grep -q "Most confidently wrong" fashion/report.html || fail "no gallery in the Fashion-MNIST report"
images=$(grep -o 'data:image/png;base64,' fashion/report.html | wc -l)
[[ $images -ge 40 ]] || fail "the gallery has $images images"
no_urls fashion/report.html

# What a person sees: both pages rendered by a browser, not blank.
screenshot "$WORK/fashion/report.html" report.png
screenshot "$WORK/sweep.html" compare.png
echo "ok: report $size bytes with $images images"
