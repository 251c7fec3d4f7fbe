#!/usr/bin/env bash
# Times loading Fashion-MNIST: nettrain's IDX .gz loader; the raw IDX file (unpacked to /tmp once)
# through the memory map; nettrain's CSV parser on 1 and 2 threads on the same data converted to
# CSV (~130 MB, written to /tmp once) and on a float-heavy CSV (100 columns of -1.234567e-03 style
# values, ~125 MB, written to /tmp once); the data cache of the Fashion-MNIST CSV; numpy.loadtxt
# and pandas.read_csv on that CSV. Prints seconds, MB/s and the ratio to nettrain's 2-thread CSV
# time. Then trains one epoch of a small MLP (784-8-10, batch 1024, 2 threads) on a generated 3 GB
# raw IDX file (memory-mapped, then read into memory with NETTRAIN_MMAP=0; removed at the end) and
# on Fashion-MNIST (in memory), and prints samples/s of each and the peak private memory
# (RssAnon) of the mapped 3 GB run. Needs python3-numpy and python3-pandas (Debian).
# Usage: bench/load_bench.sh [BUILD_DIR]   (default: build; builds nettrain and nettrain_load_bench)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
fm=/usr/share/datasets/fashion-mnist
csv=${NETTRAIN_BENCH_CSV:-/tmp/nettrain-fashion-train.csv}
fcsv=${NETTRAIN_BENCH_FLOAT_CSV:-/tmp/nettrain-float100.csv}
raw=${NETTRAIN_BENCH_RAW_IDX:-/tmp/nettrain-fashion-train-images.idx}
export NETTRAIN_CACHE=${NETTRAIN_CACHE:-/tmp/nettrain-bench-cache}
py=/usr/bin/python3  # the Debian python, which has python3-numpy and python3-pandas
[[ -f $fm/train-images-idx3-ubyte.gz ]] || { echo "Fashion-MNIST missing: run scripts/setup.sh" >&2; exit 1; }
cmake --build "$build" -j2 --target nettrain_load_bench nettrain >/dev/null
echo "load: $(uptime)"
out=$("$build/bench/nettrain_load_bench" "$fm/train-images-idx3-ubyte.gz" "$fm/train-labels-idx1-ubyte.gz" "$csv" "$fcsv" "$raw")
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
    -v f1="$(get float_csv_1t)" -v f2="$(get float_csv_2t)" -v n="$np_s" -v p="$pd_s" \
    -v r="$(get idx_raw_mmap)" -v k="$(get csv_cache)" 'BEGIN{
  printf "%-40s %8.3f %8.1f %8s\n", "nettrain IDX .gz (47 MB raw)", i, 47.1 / i, "-";
  printf "%-40s %8.3f %8.1f %8s\n", "nettrain IDX raw, mapped, read once", r, 47.1 / r, "-";
  printf "%-40s %8.3f %8.1f %8.2f\n", "nettrain CSV from its cache (mapped)", k, mb / k, k / c2;
  printf "%-40s %8.3f %8.1f %8.2f\n", "nettrain CSV, 1 thread", c1, mb / c1, c1 / c2;
  printf "%-40s %8.3f %8.1f %8.2f\n", "nettrain CSV, 2 threads", c2, mb / c2, 1;
  printf "%-40s %8.3f %8.1f %8.2f\n", "numpy.loadtxt", n, mb / n, n / c2;
  printf "%-40s %8.3f %8.1f %8.2f\n", "pandas.read_csv", p, mb / p, p / c2;
  printf "%-40s %8.3f %8.1f %8s\n", "nettrain float CSV (100 cols), 1 thread", f1, fmb / f1, "-";
  printf "%-40s %8.3f %8.1f %8s\n", "nettrain float CSV (100 cols), 2 threads", f2, fmb / f2, "-" }'

# Training throughput: a 3 GB raw IDX file (mapped) against Fashion-MNIST (in memory).
big=$(mktemp -d /tmp/nettrain-bench-big.XXXXXX)
trap 'rm -rf "$big"' EXIT
$py tests/tools/make_big_idx.py "$big/img.idx" "$big/lab.idx" 3000000000 >/dev/null
model='"model": {"input_shape": [784], "layers": [{"type": "affine", "units": 8}, {"type": "relu"}, {"type": "affine", "units": 10}], "loss": "softmax_cross_entropy"}, "training": {"epochs": 1, "batch_size": 1024, "optimizer": {"type": "sgd", "lr": 0.05}}'
echo "{\"name\": \"big\", \"data\": {\"train\": {\"images\": \"$big/img.idx\", \"labels\": \"$big/lab.idx\"}, \"preprocess\": {\"scale\": 0.0039}}, $model}" >"$big/big.json"
echo "{\"name\": \"fm\", \"data\": {\"train\": {\"images\": \"$fm/train-images-idx3-ubyte.gz\", \"labels\": \"$fm/train-labels-idx1-ubyte.gz\"}, \"preprocess\": {\"scale\": 0.0039}}, $model}" >"$big/fm.json"
"$build/app/nettrain" train "$big/big.json" --out "$big/run-big" --threads 2 -q &
pid=$!
peak=0
while kill -0 $pid 2>/dev/null; do
  a=$(awk '/^RssAnon:/{print $2}' /proc/$pid/status 2>/dev/null || true)
  [[ -n $a && $a -gt $peak ]] && peak=$a
  sleep 0.1
done
wait $pid
NETTRAIN_MMAP=0 "$build/app/nettrain" train "$big/big.json" --out "$big/run-big-mem" --threads 2 -q
"$build/app/nettrain" train "$big/fm.json" --out "$big/run-fm" --threads 2 -q
sps() { $py -c "import json,sys; j=json.load(open(sys.argv[1])); print('%d %.2f' % (j['samples_per_second'], j['train_seconds']))" "$1/summary.json"; }
read -r big_sps big_s <<<"$(sps "$big/run-big")"
read -r mem_sps mem_s <<<"$(sps "$big/run-big-mem")"
read -r fm_sps fm_s <<<"$(sps "$big/run-fm")"
echo
printf '%-48s %12s %10s %10s\n' "training 1 epoch, 784-8-10, batch 1024, 2 threads" samples/s seconds "x in-mem"
ratio() { awk -v a="$1" -v b="$fm_sps" 'BEGIN{printf "%.2f", a / b}'; }
printf '%-48s %12s %10s %10s\n' "3 GB raw IDX (3.8M samples), mapped" "$big_sps" "$big_s" "$(ratio "$big_sps")"
printf '%-48s %12s %10s %10s\n' "3 GB raw IDX, in memory (NETTRAIN_MMAP=0)" "$mem_sps" "$mem_s" "$(ratio "$mem_sps")"
printf '%-48s %12s %10s %10s\n' "Fashion-MNIST .gz (60k samples), in memory" "$fm_sps" "$fm_s" 1
echo "peak private memory (RssAnon) of the 3 GB run: $((peak / 1024)) MB"
echo "load after: $(uptime)"
