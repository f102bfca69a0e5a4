#!/usr/bin/env bash
# Makes the Python environment the CUDA resource check (ctest
# cuda_resource_usage) runs in: Debian's CUDA toolkit here has no cuobjdump,
# NVIDIA's PyPI wheel nvidia-cuda-cuobjdump (about 1 MB) has it; made once.
#   scripts/cuobjdump-venv.sh [DIR]      DIR defaults to build/cuobjdump-venv
# Prints DIR/bin/python on success (tests/cuda_build/check_resource_usage.py
# finds the wheel's cuobjdump on that interpreter's path); exits 1 with the
# reason when the environment cannot be made.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${1:-$ROOT/build/cuobjdump-venv}
PY=$VENV/bin/python
STAMP=$VENV/.rotor-cuobjdump-ready  # a half-made environment is made again
if [ -f "$STAMP" ]; then
  echo "$PY"
  exit 0
fi
rm -rf "$VENV"
if ! python3 -m venv "$VENV" >&2; then
  echo "cuobjdump-venv: python3 -m venv failed (install Debian's python3-venv, e.g. with scripts/setup.sh)" >&2
  exit 1
fi
if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check nvidia-cuda-cuobjdump >&2; then
  echo "cuobjdump-venv: pip could not install nvidia-cuda-cuobjdump from PyPI into $VENV (is PyPI reachable?)" >&2
  rm -rf "$VENV"
  exit 1
fi
touch "$STAMP"
echo "$PY"
