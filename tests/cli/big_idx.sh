# Data larger than memory would be: a generated 3 GB raw IDX file with a 1 % validation split
# trained for 2 epochs of a small MLP through the memory map (both parts of the split are views of
# it), with the process's private (anonymous) memory at most 300 MB, and
# the same bits as with the file read into memory (NETTRAIN_MMAP=0). Also the same data set's
# image file cut after its header: a DataError at load naming the file and the byte counts.
# About a minute in Release (the ASan pass does not run it). The 3 GB file is removed on exit.
source "$(dirname "$0")/lib.sh.inc"
trap 'rm -rf "$WORK"' EXIT  # also on failure: the 3 GB file lives in $WORK

n=$(python3 "$ROOT/tests/tools/make_big_idx.py" "$WORK/img.idx" "$WORK/lab.idx" 3000000000) ||
  fail "could not write the 3 GB IDX file under $WORK"
size=$(stat -c %s "$WORK/img.idx")
[[ $size -gt 2900000000 ]] || fail "the generated file has $size bytes"
cat >"$WORK/big.json" <<EOF
{"name": "big", "seed": 3,
 "data": {"train": {"format": "idx", "images": "$WORK/img.idx", "labels": "$WORK/lab.idx"},
          "validation": {"split": 0.01}, "preprocess": {"scale": 0.00392156862745098}},
 "model": {"input_shape": [784], "layers": [{"type": "affine", "name": "fc1", "units": 8}, {"type": "relu"},
           {"type": "affine", "name": "out", "units": 10}], "loss": "softmax_cross_entropy"},
 "training": {"epochs": 2, "batch_size": 1024, "optimizer": {"type": "sgd", "lr": 0.05}, "log_every_steps": 1000}}
EOF

# Mapped: the peak of RssAnon (private memory; VmHWM would count the file's pages) while it runs.
"$NETTRAIN" train "$WORK/big.json" --out "$WORK/mapped" -q 2>"$WORK/err" &
pid=$!
peak=0
while kill -0 $pid 2>/dev/null; do
  a=$(awk '/^RssAnon:/{print $2}' /proc/$pid/status 2>/dev/null || true)
  [[ -n $a && $a -gt $peak ]] && peak=$a
  sleep 0.1
done
wait $pid || { cat "$WORK/err" >&2; fail "mapped training failed"; }
echo "mapped: $n samples, peak RssAnon $((peak / 1024)) MB"
[[ $peak -gt 0 ]] || fail "RssAnon was never read"
[[ $peak -le $((300 * 1024)) ]] || fail "private memory peaked at $((peak / 1024)) MB, expected at most 300 MB"
check "$(python3 -c "import json; j = json.load(open('$WORK/mapped/summary.json')); print(j['train_samples'] + j['validation_samples'])") == $n" \
  "summary.json: train and validation samples do not add up to $n"

# In memory: the same bits.
NETTRAIN_MMAP=0 run 0 "$NETTRAIN" train "$WORK/big.json" --out "$WORK/memory" -q
cmp -s "$WORK/mapped/model.safetensors" "$WORK/memory/model.safetensors" ||
  fail "mapped and in-memory training differ"
diff <(cut -d, -f1-6 "$WORK/mapped/metrics.csv") <(cut -d, -f1-6 "$WORK/memory/metrics.csv") >&2 ||
  fail "mapped and in-memory metrics differ"

# The image file cut 1 MB after its header: an error at load, from the file size.
head -c 1000000 "$WORK/img.idx" >"$WORK/cut.idx"
rm -f "$WORK/img.idx"
sed "s|$WORK/img.idx|$WORK/cut.idx|" "$WORK/big.json" >"$WORK/cut.json"
run 3 "$NETTRAIN" train "$WORK/cut.json" --out "$WORK/cut" -q
err_has "$WORK/cut.idx: byte 1000000: truncated: header dims [$n, 28, 28] of u8 need $((n * 784)) data bytes, the file holds 999984"
[[ ! -e "$WORK/cut/model.safetensors" ]] || fail "a model was written for a truncated data set"
echo "big_idx: ok"
