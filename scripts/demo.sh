#!/usr/bin/env bash
# The offline demo: installs what is missing, builds Release, trains the quick Fashion-MNIST
# config, evaluates the model on the test set and says where everything went.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
build=${NETTRAIN_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target nettrain
run="runs/demo-$(date +%Y%m%d-%H%M%S)"
"$build/app/nettrain" train configs/fashion-mlp-quick.json --out "$run"
"$build/app/nettrain" eval "$run" --confusion
echo
echo "run directory: $run"
echo "curves:        $run/curves.svg"
echo "model:         $run/model.safetensors"
