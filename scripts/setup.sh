#!/usr/bin/env bash
# Installs the Debian packages nettrain needs to build and test. As root it runs apt-get; as
# anyone else it prints the command to run.
set -euo pipefail

# libstb-dev: stb_image_write.h, the PNG encoder of the report's images. chromium and a font: the
# report test renders the pages headless.
packages=(cmake g++ make libeigen3-dev libcli11-dev nlohmann-json3-dev libspdlog-dev doctest-dev zlib1g-dev
          libopenblas-pthread-dev libxsmm-dev python3 libstb-dev chromium fonts-dejavu-core clang-format git)
# Open MPI (mpirun -np N nettrain train; the MPI tests), iproute2 (`ip netns` for the two-namespace
# test) and util-linux (`unshare` for the per-rank data test).
packages+=(libopenmpi-dev openmpi-bin iproute2 util-linux)
# Optional extras: Fashion-MNIST for the real configs, rsvg-convert to render plots.
extras=(dataset-fashion-mnist librsvg2-bin)
if [[ "${NETTRAIN_SETUP_EXTRAS:-1}" == 1 ]]; then packages+=("${extras[@]}"); fi
# The ONNX export tests: the onnx checker (Debian's python3-onnx) and ONNX Runtime, run by node
# (npm onnxruntime-node, installed below). A node/npm already on PATH (e.g. NodeSource's) is used.
packages+=(python3-onnx python3-numpy)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -ne 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "nettrain needs these Debian packages: ${missing[*]}" >&2
    echo "run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ONNX Runtime for node, into a cache folder (tests/cli/export.sh looks for it there). The flag
# keeps its install script from fetching CUDA binaries from outside the npm registry.
ort_dir="${XDG_CACHE_HOME:-$HOME/.cache}/nettrain/npm"
ort_version=1.30.0
if [[ ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]] ||
   ! grep -q "\"version\": \"$ort_version\"" "$ort_dir/node_modules/onnxruntime-node/package.json"; then
  echo "setup: installing onnxruntime-node@$ort_version into $ort_dir" >&2
  mkdir -p "$ort_dir"
  (cd "$ort_dir" && npm install --no-audit --no-fund --loglevel=error "onnxruntime-node@$ort_version" \
    --onnxruntime-node-install=skip >/dev/null)
fi
