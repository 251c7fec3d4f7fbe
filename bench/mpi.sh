#!/usr/bin/env bash
# Data parallelism on this machine (issue 15; not part of ctest; short runs):
#   1. W3 (bench/w3-wide.json) and the CNN (configs/fashion-cnn.json) trained for one epoch on
#      the 10k Fashion-MNIST test images: 1 process x 2 threads vs 2 processes x 1 thread,
#      alternately, REPS times; s/epoch and the communication share of the steps (rank 0's time
#      inside the sums over the train time; it includes waiting for the slower rank);
#   2. the sum of a float vector across 2 processes per MB (bench/allreduce_probe.cpp) over
#      shared memory and over TCP between two network namespaces (root; removed on exit).
# Prints everything on stdout. Usage: bench/mpi.sh [REPS] (default 2). Needs a Release build/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
nettrain="$root/build/app/nettrain"
reps=${1:-2}
work=$(mktemp -d)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TMPDIR=$work
cleanup() {
  ip netns del nettrain-bench-a 2>/dev/null || true
  ip netns del nettrain-bench-b 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fm=/usr/share/datasets/fashion-mnist
small=(--set "data.train.images=$fm/t10k-images-idx3-ubyte.gz" --set "data.train.labels=$fm/t10k-labels-idx1-ubyte.gz"
       --set training.epochs=1 --set training.checkpoint_every=0 -q --json)

# epoch_line NAME DIR: s/epoch and communication share from a run's summary.json.
epoch_line() {
  python3 - "$1" "$2/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[2]))
comm = s.get("communication_seconds", 0.0)
print(f"{sys.argv[1]:28s} {s['train_seconds']:8.2f} s/epoch  {s['processes']} x {s['threads']} threads"
      f"  communication {100 * comm / s['train_seconds']:5.1f} %")
PY
}

echo "# load before: $(uptime)"
for w in "$here/w3-wide.json" "$root/configs/fashion-cnn.json"; do
  name=$(basename "$w" .json)
  for r in $(seq "$reps"); do
    "$nettrain" train "$w" --out "$work/$name-p1-$r" --threads 2 "${small[@]}" >/dev/null
    epoch_line "$name 1 process" "$work/$name-p1-$r"
    mpirun -np 2 --bind-to none "$nettrain" train "$w" --out "$work/$name-p2-$r" --threads 1 "${small[@]}" >/dev/null
    epoch_line "$name 2 processes" "$work/$name-p2-$r"
  done
done

mpicxx -O2 -o "$work/probe" "$here/allreduce_probe.cpp"
echo "# shared memory"
mpirun -np 2 --bind-to none "$work/probe"
echo "# TCP between two network namespaces (veth)"
ip netns add nettrain-bench-a
ip netns add nettrain-bench-b
ip link add nbva type veth peer name nbvb
ip link set nbva netns nettrain-bench-a
ip link set nbvb netns nettrain-bench-b
ip -n nettrain-bench-a addr add 10.78.0.1/24 dev nbva
ip -n nettrain-bench-b addr add 10.78.0.2/24 dev nbvb
for ns in nettrain-bench-a nettrain-bench-b; do ip -n $ns link set lo up; done
ip -n nettrain-bench-a link set nbva up
ip -n nettrain-bench-b link set nbvb up
cat >"$work/launch.sh" <<SH
#!/bin/sh
host=\$1
shift
case \$host in 10.78.0.1) ns=nettrain-bench-a ;; *) ns=nettrain-bench-b ;; esac
exec ip netns exec "\$ns" sh -c "\$*"
SH
chmod +x "$work/launch.sh"
printf '10.78.0.1 slots=1\n10.78.0.2 slots=1\n' >"$work/hosts"
ip netns exec nettrain-bench-a mpirun -np 2 --hostfile "$work/hosts" --mca plm_rsh_agent "$work/launch.sh" \
  --mca btl self,tcp --mca btl_tcp_if_include 10.78.0.0/24 --mca oob_tcp_if_include 10.78.0.0/24 "$work/probe"
echo "# load after: $(uptime)"
