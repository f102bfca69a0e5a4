# Sourced by demo.sh and test.sh: installs what is missing from Debian and
# configures + builds rotor (Release) in $BUILD_DIR (default build/).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
# libonnx-dev + libprotobuf-dev: rotor export (ONNX); python3-venv: the ONNX
# Runtime test's environment; clang + libclang-rt-dev: the fuzzers (scripts/hardening.sh).
PACKAGES=(cmake g++ make pkg-config catch2 libfmt-dev libstb-dev zlib1g-dev dataset-fashion-mnist
          libonnx-dev libprotobuf-dev python3-venv clang libclang-rt-dev)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "rotor: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

configure_and_build() {
  # The CUDA toolkit is often installed outside PATH.
  if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH=/usr/local/cuda/bin:$PATH
  fi
  local generator=()
  command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
  # Reuse an existing build folder only if it was made with the same generator.
  if [ -f "$BUILD_DIR/CMakeCache.txt" ] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${generator[1]:-Unix Makefiles}" "$BUILD_DIR/CMakeCache.txt"; then
    rm -rf "$BUILD_DIR"
  fi
  cmake -S "$ROOT" -B "$BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release ${ROTOR_CMAKE_ARGS:-}
  cmake --build "$BUILD_DIR" -j "$(nproc)"
}
