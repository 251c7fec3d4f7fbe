#!/usr/bin/env bash
# Times loading Fashion-MNIST: nettrain's IDX .gz loader; nettrain's CSV parser on 1 and 2
# threads on the same data converted to CSV (~130 MB, written to /tmp once) and on a float-heavy
# CSV (100 columns of -1.234567e-03 style values, ~125 MB, written to /tmp once); numpy.loadtxt
# and pandas.read_csv on the Fashion-MNIST CSV. Prints seconds, MB/s and the ratio to nettrain's
# 2-thread CSV time.
# Usage: bench/load_bench.sh [BUILD_DIR]   (default: build; builds nettrain_load_bench if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
fm=/usr/share/datasets/fashion-mnist
csv=${NETTRAIN_BENCH_CSV:-/tmp/nettrain-fashion-train.csv}
fcsv=${NETTRAIN_BENCH_FLOAT_CSV:-/tmp/nettrain-float100.csv}
py=/usr/bin/python3  # the Debian python, which has python3-numpy and python3-pandas
[[ -f $fm/train-images-idx3-ubyte.gz ]] || { echo "Fashion-MNIST missing: run scripts/setup.sh" >&2; exit 1; }
cmake --build "$build" -j2 --target nettrain_load_bench >/dev/null
echo "load: $(uptime)"
out=$("$build/bench/nettrain_load_bench" "$fm/train-images-idx3-ubyte.gz" "$fm/train-labels-idx1-ubyte.gz" "$csv" "$fcsv")
echo "$out" | sed 's/^/  /'
mb=$(stat -c %s "$csv" | awk '{print $1/1e6}')
fmb=$(stat -c %s "$fcsv" | awk '{print $1/1e6}')
get() { echo "$out" | awk -v n="$1" '$1==n{print $2}'; }
np_s=$($py -c "
import time, numpy
t = time.perf_counter(); a = numpy.loadtxt('$csv', delimiter=',', skiprows=1, dtype=numpy.float32)
print(time.perf_counter() - t)")
pd_s=$($py -c "
import time, pandas
t = time.perf_counter(); d = pandas.read_csv('$csv')
print(time.perf_counter() - t)")
echo
printf '%-40s %8s %8s %8s\n' "loader (nettrain: best of 3)" seconds MB/s "x ours"
awk -v mb="$mb" -v fmb="$fmb" -v i="$(get idx_gz)" -v c1="$(get csv_1t)" -v c2="$(get csv_2t)" \
    -v f1="$(get float_csv_1t)" -v f2="$(get float_csv_2t)" -v n="$np_s" -v p="$pd_s" 'BEGIN{
  printf "%-40s %8.3f %8.1f %8s\n", "nettrain IDX .gz (47 MB raw)", i, 47.1 / i, "-";
  printf "%-40s %8.3f %8.1f %8.2f\n", "nettrain CSV, 1 thread", c1, mb / c1, c1 / c2;
  printf "%-40s %8.3f %8.1f %8.2f\n", "nettrain CSV, 2 threads", c2, mb / c2, 1;
  printf "%-40s %8.3f %8.1f %8.2f\n", "numpy.loadtxt", n, mb / n, n / c2;
  printf "%-40s %8.3f %8.1f %8.2f\n", "pandas.read_csv", p, mb / p, p / c2;
  printf "%-40s %8.3f %8.1f %8s\n", "nettrain float CSV (100 cols), 1 thread", f1, fmb / f1, "-";
  printf "%-40s %8.3f %8.1f %8s\n", "nettrain float CSV (100 cols), 2 threads", f2, fmb / f2, "-" }'
