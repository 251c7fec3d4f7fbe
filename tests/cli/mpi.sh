# Data-parallel training under mpirun (README "Several processes"): np 2 trains the model one
# process trains (losses within 1e-5, the same test accuracy) for an MLP with batchnorm and
# dropout and for a CNN; np 2 gives the same bits run to run and for any thread count; a run
# resumes with another process count; with training.batch_shards, 1, 2 and 4 processes give the
# same bytes; processes with another config or other data are refused.
source "$(dirname "$0")/lib.sh.inc"
source "$ROOT/tests/cli/resume_common.sh.inc"
source "$ROOT/tests/cli/mpi_common.sh.inc"

mlp_config "$WORK/mlp.json" 3
run 0 "$NETTRAIN" train "$WORK/mlp.json" --out "$WORK/m1" --threads 1 -q
run 0 mpi 2 train "$WORK/mlp.json" --out "$WORK/m2" --threads 1 --json
check "$(json_get "j['processes']") == 2 and $(json_get "j['threads']") == 1" "summary.json: processes 2, threads 1"
close_runs "$WORK/m1" "$WORK/m2" "mlp np 1 vs np 2"
run 0 mpi 2 train "$WORK/mlp.json" --out "$WORK/m2b" --threads 2 -q
same_run "$WORK/m2" "$WORK/m2b" "mlp np 2 twice (1 and 2 threads per process)"
[[ ! -e $WORK/m2b/report.html ]] || [[ $(ls "$WORK" | grep -c '^m2b') == 1 ]] || fail "another rank wrote files"

cnn_config "$WORK/cnn.json"
run 0 "$NETTRAIN" train "$WORK/cnn.json" --out "$WORK/c1" --threads 1 -q
run 0 mpi 2 train "$WORK/cnn.json" --out "$WORK/c2" --threads 1 -q
close_runs "$WORK/c1" "$WORK/c2" "cnn np 1 vs np 2"
# With a Winograd layer the weight gradient's transform back takes differences of nearly equal
# sums, so the two summing orders drift apart faster; and at this config's lr of 0.01 Adam's
# first steps (m/√v = ±1 for any gradient, however small) can turn a rounding of a near-zero
# component into a step of lr: one split of the sums measured 6e-5 apart after one epoch, 5e-2
# after three, where another split stayed at 3e-6. At lr 0.003: ≤ 7e-5 after three epochs
# (im2col's ~1e-8): closer than 1e-3, the same accuracies. (Sample shards give the same bytes
# for any process count, below.)
cnn_config "$WORK/cnn16.json" 16
run 0 "$NETTRAIN" train "$WORK/cnn16.json" --out "$WORK/w1" --threads 1 -q --set training.optimizer.lr=0.003
run 0 mpi 2 train "$WORK/cnn16.json" --out "$WORK/w2" --threads 1 -q --set training.optimizer.lr=0.003
close_runs "$WORK/w1" "$WORK/w2" "winograd cnn np 1 vs np 2" 1e-3

# Resume with another process count: 2 epochs, then the third with the other count.
mlp_config "$WORK/mlp2.json" 2
run 0 mpi 2 train "$WORK/mlp2.json" --out "$WORK/r21" --threads 1 -q
run 0 "$NETTRAIN" train --resume "$WORK/r21" --set training.epochs=3 --threads 1 -q
close_runs "$WORK/m1" "$WORK/r21" "np 2 resumed with np 1"
run 0 "$NETTRAIN" train "$WORK/mlp2.json" --out "$WORK/r12" --threads 1 -q
run 0 mpi 2 train --resume "$WORK/r12" --set training.epochs=3 --threads 1 -q
close_runs "$WORK/m1" "$WORK/r12" "np 1 resumed with np 2"
python3 -c "import json,sys; s=json.load(open('$WORK/r12/summary.json')); sys.exit(0 if s['processes']==2 and len(s['resumes'])==1 else 1)" ||
  fail "r12/summary.json: processes 2 and one resume"

# training.batch_shards (the goal): the same model.safetensors bytes, metrics and steps for 1, 2
# and 4 processes and any thread count, for the MLP and the CNN (with its Winograd layer); a
# resume with another process count ends bit-identical to the unbroken run; 3 processes do not
# split 4 shards: exit 2.
shards() { python3 -c "import json,sys; c=json.load(open('$1')); c['training'].update(batch_size=64, batch_shards=4, epochs=$2); json.dump(c, open('$3', 'w'))"; }
shards "$WORK/mlp.json" 3 "$WORK/smlp.json"
shards "$WORK/cnn16.json" 2 "$WORK/scnn.json"
for cfg in smlp scnn; do
  run 0 "$NETTRAIN" train "$WORK/$cfg.json" --out "$WORK/$cfg-1" --threads 1 -q
  run 0 "$NETTRAIN" train "$WORK/$cfg.json" --out "$WORK/$cfg-1t" --threads 2 -q
  run 0 mpi 2 train "$WORK/$cfg.json" --out "$WORK/$cfg-2" --threads 1 -q
  run 0 mpi 4 train "$WORK/$cfg.json" --out "$WORK/$cfg-4" --threads 1 -q
  for other in 1t 2 4; do same_run "$WORK/$cfg-1" "$WORK/$cfg-$other" "$cfg: 1 process vs $other"; done
done
shards "$WORK/mlp.json" 2 "$WORK/smlp2.json"
run 0 mpi 2 train "$WORK/smlp2.json" --out "$WORK/s21" --threads 1 -q
run 0 "$NETTRAIN" train --resume "$WORK/s21" --set training.epochs=3 --threads 2 -q
same_run "$WORK/smlp-1" "$WORK/s21" "batch_shards: np 2 resumed with np 1"
run 0 "$NETTRAIN" train "$WORK/smlp2.json" --out "$WORK/s14" --threads 1 -q
run 0 mpi 4 train --resume "$WORK/s14" --set training.epochs=3 --threads 1 -q
same_run "$WORK/smlp-1" "$WORK/s14" "batch_shards: np 1 resumed with np 4"
run 2 mpi 3 train "$WORK/smlp.json" --out "$WORK/s3" -q
err_has "4 shards split evenly over 1, 2, 4 processes, not 3"
[[ ! -e $WORK/s3 ]] || fail "a refused run wrote $WORK/s3"

# Rank 1 with another --set: exit 2, naming the rank; nothing written.
cat >"$WORK/other_lr.sh" <<SH
#!/bin/sh
[ "\$OMPI_COMM_WORLD_RANK" = 1 ] && exec "$NETTRAIN" "\$@" --set training.optimizer.lr=0.006
exec "$NETTRAIN" "\$@"
SH
chmod +x "$WORK/other_lr.sh"
run 2 mpirun -np 2 "$WORK/other_lr.sh" train "$WORK/mlp.json" --out "$WORK/bad" -q
err_has "rank 1 resolved another config than rank 0"
[[ $(grep -c 'error:' "$WORK/err") == 1 ]] || fail "the config mismatch should be reported once"
[[ ! -e $WORK/bad ]] || fail "a refused run wrote $WORK/bad"

# Rank 1 reads another file at the same path (its own mount namespace): exit 3, naming the rank.
cp "$ROOT/data/spirals.csv" "$WORK/spirals.csv"
sed 's/,0$/,1/' "$WORK/spirals.csv" >"$WORK/other.csv"
sed "s|$ROOT/data/spirals.csv|$WORK/spirals.csv|g" "$WORK/mlp.json" >"$WORK/local.json"
cat >"$WORK/other_data.sh" <<SH
#!/bin/sh
[ "\$OMPI_COMM_WORLD_RANK" = 1 ] &&
  exec unshare -m sh -c 'mount --bind "$WORK/other.csv" "$WORK/spirals.csv" && exec "\$0" "\$@"' "$NETTRAIN" "\$@"
exec "$NETTRAIN" "\$@"
SH
chmod +x "$WORK/other_data.sh"
run 3 mpirun -np 2 "$WORK/other_data.sh" train "$WORK/local.json" --out "$WORK/bad" -q
err_has "rank 1 read other data than rank 0"
[[ ! -e $WORK/bad ]] || fail "a refused run wrote $WORK/bad"
echo ok
