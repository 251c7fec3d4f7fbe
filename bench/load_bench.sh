#!/usr/bin/env bash
# Times loading Fashion-MNIST: nettrain's IDX .gz loader, nettrain's CSV loader on the same data
# converted to CSV (~130 MB, written to /tmp once), numpy.loadtxt and pandas.read_csv on that
# CSV. Prints seconds, MB/s and the ratio to nettrain's CSV time.
# Usage: bench/load_bench.sh [BUILD_DIR]   (default: build; builds nettrain_load_bench if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
fm=/usr/share/datasets/fashion-mnist
csv=${NETTRAIN_BENCH_CSV:-/tmp/nettrain-fashion-train.csv}
py=/usr/bin/python3  # the Debian python, which has python3-numpy and python3-pandas
[[ -f $fm/train-images-idx3-ubyte.gz ]] || { echo "Fashion-MNIST missing: run scripts/setup.sh" >&2; exit 1; }
cmake --build "$build" -j2 --target nettrain_load_bench >/dev/null
out=$("$build/bench/nettrain_load_bench" "$fm/train-images-idx3-ubyte.gz" "$fm/train-labels-idx1-ubyte.gz" "$csv")
echo "$out" | sed 's/^/  /'
mb=$(stat -c %s "$csv" | awk '{print $1/1e6}')
# Best of the three runs.
idx_s=$(echo "$out" | awk '$1=="idx_gz"{print $2}' | sort -g | head -1)
csv_s=$(echo "$out" | awk '$1=="csv"{print $2}' | sort -g | head -1)
np_s=$($py -c "
import time, numpy
t = time.perf_counter(); a = numpy.loadtxt('$csv', delimiter=',', skiprows=1, dtype=numpy.float32)
print(time.perf_counter() - t)")
pd_s=$($py -c "
import time, pandas
t = time.perf_counter(); d = pandas.read_csv('$csv')
print(time.perf_counter() - t)")
echo
printf '%-28s %8s %8s %8s\n' "loader (best of 3 for ours)" seconds MB/s "x ours"
awk -v mb="$mb" -v c="$csv_s" -v i="$idx_s" -v n="$np_s" -v p="$pd_s" 'BEGIN{
  printf "%-28s %8.3f %8.1f %8s\n", "nettrain IDX .gz (47 MB raw)", i, 47.1 / i, "-";
  printf "%-28s %8.3f %8.1f %8.2f\n", "nettrain CSV", c, mb / c, 1;
  printf "%-28s %8.3f %8.1f %8.2f\n", "numpy.loadtxt", n, mb / n, n / c;
  printf "%-28s %8.3f %8.1f %8.2f\n", "pandas.read_csv", p, mb / p, p / c }'
