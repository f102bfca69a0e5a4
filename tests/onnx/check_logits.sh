#!/usr/bin/env bash
# The ctest entry onnx_logits: rotor's logits against ONNX Runtime's.
#   check_logits.sh ROTOR_BIN CASES_BIN WORK_DIR
# Environment: ROTOR_ONNX_VENV (default build/onnx-venv).
# Makes (once) the Python environment with onnxruntime (scripts/onnx-venv.sh,
# ROTOR_ONNX_VENV), writes the cases with CASES_BIN into WORK_DIR and runs
# check_logits.py. Fails, never skips, when the environment cannot be made.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROTOR=$1 CASES=$2 WORK=$3
start=$(date +%s)
if ! PY=$("$HERE/../../scripts/onnx-venv.sh" ${ROTOR_ONNX_VENV:-}); then
  echo "onnx_logits: FAILED: no Python environment with onnxruntime (see the message above)" >&2
  exit 1
fi
echo "python environment ready in $(($(date +%s) - start)) s: $PY"
rm -rf "$WORK"
mkdir -p "$WORK"
"$CASES" "$WORK"
"$PY" "$HERE/check_logits.py" "$ROTOR" "$WORK"
echo "onnx_logits: $(($(date +%s) - start)) s in all"
