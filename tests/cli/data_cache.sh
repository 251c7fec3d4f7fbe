# The data cache of parsed CSVs: the first run writes it, the second maps it (summary.json's
# data_cache says which) and trains the same bits as --no-cache; an edited CSV (same size, mtime
# put back), a truncated, other-version or corrupt cache file, and other CSV options are each a
# rebuild, never a hit; --no-cache writes nothing; NETTRAIN_CACHE and XDG_CACHE_HOME are honoured;
# an unwritable cache folder is a warning and training goes on.
source "$(dirname "$0")/lib.sh.inc"

# spirals.csv (float features, a validation split) and a u8 CSV with string labels.
cp "$ROOT/data/spirals.csv" "$WORK/s.csv"
python3 - "$WORK/u.csv" <<'PY'
import random, sys
r = random.Random(5)
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"p{j}" for j in range(16)) + ",label\n")
    for i in range(400):
        c = i % 3
        f.write(",".join(str(min(255, max(0, int(r.gauss(60 + 70 * c, 30))))) for _ in range(16)))
        f.write(",%s\n" % ["red", "green", "blue"][c])
PY
python3 - "$ROOT/configs/spirals.json" "$WORK" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); w = sys.argv[2]
c["training"]["epochs"] = 3
c["data"]["train"]["path"] = w + "/s.csv"
json.dump(c, open(w + "/s.json", "w"))
c["data"]["train"] = {"format": "csv", "path": w + "/u.csv", "label_column": "label"}
c["data"]["preprocess"] = {"scale": 0.00392156862745098}
c["model"]["input_shape"] = [16]
c["model"]["layers"][-1]["units"] = 3
json.dump(c, open(w + "/u.json", "w"))
PY

# note RUN: the train split's data_cache note in RUN/summary.json
note() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['data_cache'].get('train', ''))" "$1/summary.json"; }
expect_note() {  # RUN PREFIX
  local n
  n=$(note "$1")
  [[ $n == "$2"* ]] || fail "$1: data_cache.train is '$n', expected it to start with '$2'"
}
cache_files() { find "$NETTRAIN_CACHE" -name '*.ntcache' 2>/dev/null | sort; }

for d in s u; do
  run 0 "$NETTRAIN" train "$WORK/$d.json" --out "$WORK/${d}1" -q
  expect_note "$WORK/${d}1" "written $NETTRAIN_CACHE/"
  run 0 "$NETTRAIN" train "$WORK/$d.json" --out "$WORK/${d}2" -q
  expect_note "$WORK/${d}2" "hit $NETTRAIN_CACHE/"
  cmp -s "$WORK/${d}1/model.safetensors" "$WORK/${d}2/model.safetensors" || fail "$d: the cache hit trained other bits"
done
[[ $(cache_files | wc -l) -eq 2 ]] || fail "expected 2 cache files, found: $(cache_files)"

# --no-cache: parses, writes nothing, same bits.
NETTRAIN_CACHE="$WORK/nocache" run 0 "$NETTRAIN" train "$WORK/u.json" --out "$WORK/u3" --no-cache -q
expect_note "$WORK/u3" "off"
[[ ! -e "$WORK/nocache" ]] || fail "--no-cache wrote $(ls -R "$WORK/nocache")"
cmp -s "$WORK/u1/model.safetensors" "$WORK/u3/model.safetensors" || fail "--no-cache trained other bits"

# The CSV edited in place, same size, mtime put back: the content hash sees it.
ucache=$(cache_files | while read -r f; do if grep -qa "u.csv" "$f"; then echo "$f"; fi; done)
[[ -n $ucache ]] || fail "no cache file names u.csv"
stamp=$(stat -c %y "$WORK/u.csv")
sed -i '2s/^\([0-9]\)/9/' "$WORK/u.csv"
touch -d "$stamp" "$WORK/u.csv"
[[ $(stat -c %y "$WORK/u.csv") == "$stamp" ]] || fail "touch -d did not restore the mtime"
run 0 "$NETTRAIN" train "$WORK/u.json" --out "$WORK/u4" -q
expect_note "$WORK/u4" "rebuilt (the CSV changed (content_hash)) $ucache"
cmp -s "$WORK/u1/model.safetensors" "$WORK/u4/model.safetensors" && fail "the edited CSV trained the old bits"
run 0 "$NETTRAIN" train "$WORK/u.json" --out "$WORK/u5" -q
expect_note "$WORK/u5" "hit"
cmp -s "$WORK/u4/model.safetensors" "$WORK/u5/model.safetensors" || fail "the rebuilt cache trained other bits"

# A truncated cache file, one of another format version, one with a flipped byte in its data.
size=$(stat -c %s "$ucache")
truncate -s $((size / 2)) "$ucache"
run 0 "$NETTRAIN" train "$WORK/u.json" --out "$WORK/u6" -q
expect_note "$WORK/u6" "rebuilt (truncated"
printf '\x63' | dd of="$ucache" bs=1 seek=8 conv=notrunc status=none
run 0 "$NETTRAIN" train "$WORK/u.json" --out "$WORK/u7" -q
expect_note "$WORK/u7" "rebuilt (written by another version (format 99, expected 1))"
printf '\x01' | dd of="$ucache" bs=1 seek=$((size - 100)) conv=notrunc status=none
run 0 "$NETTRAIN" train "$WORK/u.json" --out "$WORK/u8" -q
expect_note "$WORK/u8" "rebuilt (corrupt (checksum mismatch))"
for r in u6 u7 u8; do
  cmp -s "$WORK/u5/model.safetensors" "$WORK/$r/model.safetensors" || fail "$r: a rebuilt cache trained other bits"
done
run 0 "$NETTRAIN" train "$WORK/u.json" --out "$WORK/u9" -q
expect_note "$WORK/u9" "hit"

# Other CSV options: another cache file, not a hit of the first.
run 0 "$NETTRAIN" train "$WORK/u.json" --out "$WORK/u10" --set data.train.header=true -q
expect_note "$WORK/u10" "written"

# XDG_CACHE_HOME when NETTRAIN_CACHE is unset.
(unset NETTRAIN_CACHE; XDG_CACHE_HOME="$WORK/xdg" run 0 "$NETTRAIN" train "$WORK/s.json" --out "$WORK/s3" -q)
expect_note "$WORK/s3" "written $WORK/xdg/nettrain/data/"
ls "$WORK/xdg/nettrain/data/"*.ntcache >/dev/null || fail "nothing written under XDG_CACHE_HOME"

# An unwritable cache folder (under a file): a warning, the run goes on with the same bits.
touch "$WORK/afile"
NETTRAIN_CACHE="$WORK/afile/cache" run 0 "$NETTRAIN" train "$WORK/s.json" --out "$WORK/s4"
err_has "data cache: train: not written: "
err_has "(training goes on without it)"
cmp -s "$WORK/s1/model.safetensors" "$WORK/s4/model.safetensors" || fail "without a cache: other bits"

# validate and eval read the cache too, and take --no-cache.
run 0 "$NETTRAIN" validate "$WORK/s.json" --no-cache
run 0 "$NETTRAIN" eval "$WORK/u9" --csv "$WORK/u.csv" --no-cache --json
echo "data_cache: ok"
