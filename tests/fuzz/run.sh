#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for
# SECONDS (default 60), two at a time. Crashing inputs land in tests/fuzz/findings/<target>/.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_config fuzz_idx fuzz_csv fuzz_safetensors)
build=${NETTRAIN_FUZZ_BUILD_DIR:-build-fuzz}
cxx=$(command -v clang++-14 || command -v clang++)
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETTRAIN_FUZZ=ON \
  -DNETTRAIN_TESTS=OFF -DNETTRAIN_BENCH=OFF -DNETTRAIN_NATIVE=OFF >/dev/null
cmake --build "$build" -j2 --target "${targets[@]}"

seeds=tests/fuzz/seeds
run_one() {
  local t=$1 corpus="$build/corpus/$1" findings=tests/fuzz/findings/$1
  mkdir -p "$corpus" "$findings"
  [[ -d $seeds/$t ]] && cp -n "$seeds/$t"/* "$corpus"/ 2>/dev/null || true
  ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0 \
    "$build/tests/fuzz/$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -artifact_prefix="$findings/" -print_final_stats=1 "$corpus" \
    >"$build/$t.log" 2>&1 && echo "$t: ok" || echo "$t: FOUND A CRASH (see $build/$t.log, $findings/)"
  grep -E "stat::number_of_executed_units|cov:" "$build/$t.log" | tail -2
}
# Two at a time: the machine has two cores.
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run_one "${targets[i]}" &
  [[ $((i + 1)) -lt ${#targets[@]} ]] && run_one "${targets[i + 1]}" &
  wait
done
