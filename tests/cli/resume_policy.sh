# What --resume may change (issue 12): more epochs, early stopping and the checkpoint and log
# cadence; a CONFIG argument, --seed, fewer epochs or any other key (also edited by hand into the
# run's config.json) is exit 2 naming the key; a finished run is left untouched; summary.json
# records the command line, the overrides and each resume.
source "$(dirname "$0")/lib.sh.inc"

cfg="$ROOT/configs/spirals.json"
run 0 "$NETTRAIN" train "$cfg" --out r --set training.epochs=3 --set training.optimizer.lr=0.02 -q
python3 - r/summary.json <<'PY' || fail "summary.json does not record the command line and the overrides"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["overrides"] == ["training.epochs=3", "training.optimizer.lr=0.02"], s["overrides"]
assert "train" in s["command_line"] and "--set training.optimizer.lr=0.02" in s["command_line"], s["command_line"]
assert s["resumes"] == [] and s["processes"] == 1 and s["threads"] >= 1
assert s["blas"].startswith("OpenBLAS ") and s["batch_shards"] == 1, (s["blas"], s["batch_shards"])
PY

# Refused, with the key named; nothing in the run directory changes.
md5sum r/* >before.md5
run 2 "$NETTRAIN" train --resume r --seed 99
err_has "--seed 99 on --resume r"
run 2 "$NETTRAIN" train "$ROOT/configs/blobs.json" --resume r
err_has "a CONFIG argument ($ROOT/configs/blobs.json) cannot be combined"
run 2 "$NETTRAIN" train --resume r --set training.epochs=2
err_has "a resume can only add epochs"
run 2 "$NETTRAIN" train --resume r --set training.batch_size=8 --set training.epochs=5
err_has "cannot change training.batch_size"
run 2 "$NETTRAIN" train --resume r --set model.layers.0.units=8 --set training.epochs=5
err_has "cannot change model.layers.0.units"
md5sum -c --quiet before.md5 || fail "a refused resume changed the run directory"

# A finished run: said so, exit 0, no file touched.
run 0 "$NETTRAIN" train --resume r
err_has "has already finished (3 epochs)"
md5sum -c --quiet before.md5 || fail "resuming a finished run changed its files"

# A hand edit of config.json is held to the same rules as --set.
cp r/config.json config.saved
python3 -c "
import json; c = json.load(open('r/config.json')); c['training']['optimizer']['lr'] = 0.5
json.dump(c, open('r/config.json', 'w'), indent=2)"
run 2 "$NETTRAIN" train --resume r --set training.epochs=5
err_has "differs from the checkpoint's config at training.optimizer.lr"
cp config.saved r/config.json

# Allowed: more epochs and a new early-stopping rule; the resume is recorded.
run 0 "$NETTRAIN" train --resume r --set training.epochs=5 --set 'training.early_stopping={"patience": 50}' -q
python3 - r/summary.json r/config.json <<'PY' || fail "the resume is not recorded as it happened"
import json, sys
s, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert s["epochs"] == 5 and c["training"]["epochs"] == 5
assert s["overrides"] == ["training.epochs=3", "training.optimizer.lr=0.02"]
(r,) = s["resumes"]
assert r["from_epoch"] == 4 and r["overrides"][0] == "training.epochs=5", r
assert r["at"].endswith("Z") and "--resume r" in r["command_line"]
PY
echo ok
