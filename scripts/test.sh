#!/usr/bin/env bash
# Installs what is missing, builds rotor and runs its test suite.
#   scripts/test.sh                 all tests (GPU tests are skipped without a GPU)
#   scripts/test.sh -L golden       only tests with a ctest label
# Environment: BUILD_DIR (default build/), ROTOR_CMAKE_ARGS (extra CMake flags).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
install_missing
configure_and_build
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" "$@"
