#!/usr/bin/env bash
# gpu-source-hash.sh: prints one hash of every file that goes into the build
# (C++/CUDA sources, headers, CMakeLists). scripts/gpu-prebuild.sh records it
# in .gpu-build/BUILD-INFO; bench/gpu-check.sh compares it on the GPU machine,
# so that binaries built from other sources are never taken for this tree's.
# Works without git (the device's copy of the worktree may have no .git).
set -euo pipefail
cd "$(dirname "$0")/.."
find CMakeLists.txt engine kernels models data apps bench tests -type f \
  \( -name '*.cpp' -o -name '*.h' -o -name '*.hpp' -o -name '*.cu' -o -name '*.cuh' -o -name CMakeLists.txt \) \
  -not -path 'tests/gpu/emulation/*' -print0 |
  LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
