# The paper cuts a newcomer hits: an unknown command, an out-of-range --top-k, a model path that
# is not safetensors, --set errors naming the override, --set replacing a whole object, paths in
# --set resolving against the current directory, and `cmake --install` putting nettrain on a prefix.
source "$(dirname "$0")/lib.sh.inc"

# An unknown command names it and lists the commands.
run 2 "$NETTRAIN" tabulate runs/a runs/b
err_has "unknown command 'tabulate'"
err_has "report, compare"
err_has "train, eval, predict"

# --top-k out of range: one short message with the range, not a 300-digit bound.
run 0 "$NETTRAIN" train "$ROOT/configs/blobs.json" --out b1 --set training.epochs=1 -q
run 2 "$NETTRAIN" eval b1 --top-k 0
err_has "--top-k: expected an integer >= 1, got 0"
[[ $(wc -c < "$WORK/err") -lt 200 ]] || fail "--top-k 0 message is $(wc -c < "$WORK/err") bytes: $(cat "$WORK/err")"
run 2 "$NETTRAIN" predict b1 --input "$ROOT/data/blobs.csv" --top-k -3
err_has "--top-k: expected an integer >= 1, got -3"

# A model path that is not a safetensors file.
run 4 "$NETTRAIN" inspect "$ROOT/configs/blobs.json"
err_has "blobs.json: not a safetensors file"
run 4 "$NETTRAIN" eval "$ROOT/data/blobs.csv" --csv "$ROOT/data/blobs.csv"
err_has "not a safetensors file"

# --set errors name the override, not the config file.
run 2 "$NETTRAIN" validate "$ROOT/configs/blobs.json" --set training.epochs=-1
err_has "--set training.epochs=-1: /training/epochs: expected a positive integer, got -1"
grep -q "blobs.json" "$WORK/err" && fail "a --set error names the config file: $(cat "$WORK/err")"
run 2 "$NETTRAIN" validate "$ROOT/configs/blobs.json" --set 'training.optimizer={"type": "adam", "lr": -1}'
err_has '--set training.optimizer={"type": "adam", "lr": -1}: /training/optimizer/lr'
# A key left over from the file after changing only .type: the hint says how to replace the object.
run 2 "$NETTRAIN" validate "$ROOT/configs/blobs.json" --set training.optimizer.type=adam
err_has 'blobs.json: /training/optimizer/momentum: unknown key "momentum"'
err_has "--set training.optimizer.type=adam kept the other keys of training.optimizer from the file"
err_has "--set 'training.optimizer={\"type\": \"adam\", ...}'"
# ... and replacing the whole object works.
run 0 "$NETTRAIN" train "$ROOT/configs/blobs.json" --out adam --set training.epochs=1 -q \
  --set 'training.optimizer={"type":"adam","lr":0.001}'
python3 -c "
import json; o = json.load(open('adam/config.json'))['training']['optimizer']
assert o['type'] == 'adam' and o['lr'] == 0.001 and 'momentum' not in o, o" || fail "--set replaced the optimizer object"

# Paths in --set resolve against the current directory; paths in the file against its folder.
mkdir sub
cp "$ROOT/data/blobs.csv" sub/mine.csv
run 0 "$NETTRAIN" train "$ROOT/configs/blobs.json" --out mine --set training.epochs=1 -q --set data.train.path=sub/mine.csv
python3 -c "
import json; p = json.load(open('mine/config.json'))['data']['train']['path']
assert p == '$WORK/sub/mine.csv', p" || fail "a --set path did not resolve against the current directory"
run 0 "$NETTRAIN" validate "$ROOT/configs/blobs.json" --set 'data.test={"path": "sub/mine.csv", "label_column": "color"}'
out_has "$WORK/sub/mine.csv"

# cmake --install puts the nettrain binary under PREFIX/bin.
build_dir=$(cd "$(dirname "$NETTRAIN")/.." && pwd)
[[ -f $build_dir/CMakeCache.txt ]] || fail "no CMake build directory above $NETTRAIN"
cmake --install "$build_dir" --prefix "$WORK/prefix" > install.log || fail "cmake --install failed: $(cat install.log)"
[[ -x $WORK/prefix/bin/nettrain ]] || fail "cmake --install did not install bin/nettrain: $(cat install.log)"
PATH="$WORK/prefix/bin:$PATH" run 0 nettrain --version
out_has "nettrain "
out_has "BLAS: OpenBLAS "
echo "ok"
