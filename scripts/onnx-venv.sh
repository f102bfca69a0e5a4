#!/usr/bin/env bash
# Makes the Python environment the ONNX test runs in: a virtual environment
# with onnxruntime and numpy from PyPI (about 20 MB), made once.
#   scripts/onnx-venv.sh [DIR]      DIR defaults to build/onnx-venv
# Prints DIR/bin/python on success; exits 1 with the reason when the
# environment cannot be made (no python3-venv, PyPI unreachable).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${1:-$ROOT/build/onnx-venv}
PY=$VENV/bin/python
# A finished environment has this stamp; a half-made one is made again.
STAMP=$VENV/.rotor-onnx-ready
if [ -f "$STAMP" ] && "$PY" -c "import onnxruntime, numpy" 2>/dev/null; then
  echo "$PY"
  exit 0
fi
rm -rf "$VENV"
if ! python3 -m venv "$VENV" >&2; then
  echo "onnx-venv: python3 -m venv failed (install Debian's python3-venv, e.g. with scripts/setup.sh)" >&2
  exit 1
fi
if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check onnxruntime numpy >&2; then
  echo "onnx-venv: pip could not install onnxruntime and numpy from PyPI into $VENV (is PyPI reachable?)" >&2
  rm -rf "$VENV"
  exit 1
fi
touch "$STAMP"
echo "$PY"
