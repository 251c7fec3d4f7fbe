#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs every test with ctest; then builds the tests
# again with AddressSanitizer + UndefinedBehaviorSanitizer and runs the unit tests and the
# bad-input catalogue there (set NETTRAIN_SKIP_SANITIZE=1 to skip that second pass).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The tree is formatted with .clang-format (scripts/format.sh); drift fails here, before the build.
./scripts/format.sh --check
jobs=$(nproc)
build=${NETTRAIN_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs"

if [[ ${NETTRAIN_SKIP_SANITIZE:-0} != 1 ]]; then
  asan=${NETTRAIN_SANITIZE_BUILD_DIR:-build-asan}
  cmake -S . -B "$asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETTRAIN_SANITIZE=ON -DNETTRAIN_BENCH=OFF >/dev/null
  cmake --build "$asan" -j"$jobs" --target nettrain nettrain_tests
  # LeakSanitizer needs ptrace, which some containers forbid: probe it, and go on without it there.
  leaks=1
  if ! ASAN_OPTIONS=detect_leaks=1 "$asan/app/nettrain" --version >/dev/null 2>&1; then
    echo "test.sh: LeakSanitizer does not work here; running with detect_leaks=0" >&2
    leaks=0
  fi
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=$leaks:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  # The doctest unit tests, and the CLI tests that feed the binary bad and non-finite input.
  ctest --test-dir "$asan" --output-on-failure -j"$jobs" -E '^cli\.'
  ctest --test-dir "$asan" --output-on-failure -j"$jobs" -R '^cli\.(bad_inputs|divergence)$'
fi
