#!/usr/bin/env bash
# Runs the GPU tests (tests/gpu) on the CPU, with the CUDA kernels of
# kernels/cuda/*.cu compiled as host C++ under a CPU emulation of the CUDA
# execution model (cuda_emu.h). For machines without a GPU: it checks the
# kernels' index arithmetic, barriers and reductions, not their speed.
#
#   bash tests/gpu/emulation/run.sh [asan|tsan|fast] [catch2 test spec...]
#     asan  AddressSanitizer + UBSan: out-of-bounds "device" accesses
#     tsan  ThreadSanitizer: a missing __syncthreads shows as a data race
#     fast  -O2, no sanitizer, CUDA threads as fibers on x86-64 (default; cuda_emu.h)
#   EMU_SMS=132 ... sizes grids as for an H100 (more blocks per channel,
#   more split-K slices); EMU_DIR (default /tmp/rotor-emu) holds the build.
#
# Not part of the CMake build; CI (.ci/run) runs `run.sh fast` after the
# test suite. Its last line says "emulation (MODE): passed: ..." or
# "emulation (MODE): FAILED ...", and the exit status is non-zero when a
# source does not compile or link or a test fails. Design decision:
# the kernel sources are used as they are (a script rewrites only the <<<>>>
# launches and notes each __shared__ declaration's size), so what passes here is the code that ships; the engine, CPU
# references and test files are compiled unchanged against a fake CUDA
# backend (fake_backend.cpp). CUB, which g++ cannot compile, is modelled
# by emu_cub.h (kernels/cuda/cub_include.cuh picks it under the emulation).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
R=$(cd "$HERE/../../.." && pwd)
MODE=${1:-fast}
[ $# -gt 0 ] && shift
D=${EMU_DIR:-/tmp/rotor-emu}/$MODE
mkdir -p "$D/gen/kernels/cuda" "$D/obj"
# Generated files are replaced only when their text changes, so that an
# unchanged kernel is not recompiled.
generate() {
  python3 "$HERE/transform.py" "$1" > "$2.tmp"
  if cmp -s "$2.tmp" "$2"; then rm "$2.tmp"; else mv "$2.tmp" "$2"; fi
}
for f in "$R"/kernels/cuda/*.cu; do generate "$f" "$D/gen/$(basename "$f" .cu).cpp"; done
# A source that was renamed or removed leaves no stale kernel behind.
for g in "$D"/gen/*.cpp; do [ -f "$R/kernels/cuda/$(basename "$g" .cpp).cu" ] || rm -f "$g"; done
for f in "$R"/kernels/cuda/*.cuh; do generate "$f" "$D/gen/kernels/cuda/$(basename "$f")"; done

FLAGS="-std=c++20 -g -O1 -Werror=switch -DROTOR_HAVE_CUDA=1 -I$R -I/usr/include/stb -I/usr/local/cuda/include -Wno-attributes"
case $MODE in
  asan) FLAGS="$FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer" ;;
  tsan) FLAGS="$FLAGS -fsanitize=thread" ;;
  fast) FLAGS="${FLAGS/-O1/-O2}" ;;
  *) echo "mode must be asan, tsan or fast" >&2; exit 2 ;;
esac
# The emulation's own checks first (the CUB model, the launch limits, and
# with fibers the deadlock check), in this mode's execution model.
# (The fibers' stack switch is x86-64 assembly; elsewhere fast mode uses
# threads too.)
fibers=()
if [ "$MODE" = fast ] && [ "$(uname -m)" = x86_64 ]; then
  fibers=(-DEMU_FIBERS)
  FLAGS="$FLAGS -DEMU_FIBERS"
fi
bash "$HERE/selftest.sh" "$D/selftest" "${fibers[@]}" || { echo "emulation ($MODE): FAILED: the self-test (above)"; exit 1; }
DEFS=(-DROTOR_GOLDEN_DIR="\"${ROTOR_GOLDEN_DIR:-$R/../shared/golden}\"" -DROTOR_DATASETS_DIR="\"$R/../shared/datasets\""
      -DROTOR_BIN="\"/bin/false\"")

srcs=()
for f in "$R"/engine/*.cpp; do [ "$(basename "$f")" = cuda_unavailable.cpp ] || srcs+=("$f"); done
# The ONNX exporter needs libonnx's generated headers and definitions (its
# own CMake library); the tests here use the stub that says it is absent.
for f in "$R"/models/*.cpp; do
  case $(basename "$f") in onnx_graph.cpp|onnx_export.cpp) ;; *) srcs+=("$f") ;; esac
done
# The trainer's step and its CUDA graph (tests/gpu/test_gpu_graph_step.cpp).
srcs+=("$R"/apps/trainer.cpp "$R"/apps/graph_step.cpp "$R"/apps/sparsity.cpp)
srcs+=("$R"/kernels/cpu/*.cpp "$R"/data/*.cpp "$R"/tests/support/npy.cpp
       "$R"/tests/golden/golden_checks.cpp "$HERE/fake_backend.cpp" "$R"/tests/gpu/*.cpp "$D"/gen/*.cpp)
# An object is up to date when it is newer than every file its .d (written
# by -MMD) lists: the source and every header it includes, cuda_emu.h too.
up_to_date() {
  local o=$1 d=${1%.o}.d dep
  [ -f "$o" ] && [ -f "$d" ] || return 1
  for dep in $(sed -e 's/\\$//' -e 's/^[^:]*://' "$d"); do
    [ "$dep" -nt "$o" ] && return 1
  done
  return 0
}
# ccache, when there is one, makes a fresh checkout (CI) cheap to rebuild:
# its sources are all newer than any object left in EMU_DIR.
CXX=(g++)
command -v ccache > /dev/null && CXX=(ccache g++)
objs=()
jobs=0
failed=0
for s in "${srcs[@]}"; do
  o=$D/obj/$(echo "$s" | sed 's|/|_|g').o
  objs+=("$o")
  up_to_date "$o" && continue
  extra=()
  [[ $s == *gemm_avx2.cpp ]] && extra=(-mavx2 -mfma -ffp-contract=fast)
  [[ $s == "$D"/gen/* ]] && extra=(-include "$HERE/cuda_emu.h" -iquote "$D/gen")
  # A failed compile must not leave the previous object to be linked.
  rm -f "$o"
  "${CXX[@]}" $FLAGS "${DEFS[@]}" "${extra[@]}" -MMD -MF "${o%.o}.d" -c "$s" -o "$o" &
  jobs=$((jobs + 1))
  if [ $jobs -ge "$(nproc)" ]; then
    wait -n || failed=$((failed + 1))
    jobs=$((jobs - 1))
  fi
done
# (A plain `wait` returns 0 whatever the jobs returned.)
while [ $jobs -gt 0 ]; do
  wait -n || failed=$((failed + 1))
  jobs=$((jobs - 1))
done
if [ $failed -gt 0 ]; then
  echo "emulation ($MODE): FAILED: $failed source files did not compile (errors above)"
  exit 1
fi
main=() golden=()
for o in "${objs[@]}"; do
  case $o in
    *emulation_fake_backend*) main+=("$o"); golden+=("$o") ;;
    *gpu_golden_main*|*test_gpu_golden*) golden+=("$o") ;;
    *tests_gpu_*) main+=("$o") ;;
    *) main+=("$o"); golden+=("$o") ;;
  esac
done
for bin in gpu_tests gpu_golden_tests; do
  if [ $bin = gpu_tests ]; then parts=("${main[@]}"); else parts=("${golden[@]}"); fi
  g++ $FLAGS -o "$D/$bin" "${parts[@]}" -lfmt -lz -lpthread ||
    { echo "emulation ($MODE): FAILED: $bin did not link (errors above)"; exit 1; }
done
# Each binary's Catch2 result line, and last a line for CI: the emulation's
# result and exit status (non-zero when a test failed).
result() { grep -E "^(All tests passed|test cases:|No tests ran)" "$1" | tail -1; }
OUTF=$D/gpu_tests.out
rc=0
"$D/gpu_tests" "$@" 2>&1 | tee "$OUTF" || rc=$?
summary="gpu_tests: $(result "$OUTF")"
if [ $rc -eq 0 ] && [ $# -eq 0 ] && [ -f "${ROTOR_GOLDEN_DIR:-$R/../shared/golden}/index.json" ]; then
  "$D/gpu_golden_tests" 2>&1 | tee "$D/golden.out" || rc=$?
  summary="$summary; gpu_golden_tests: $(result "$D/golden.out")"
fi
if [ $rc -eq 0 ]; then
  echo "emulation ($MODE): passed: $summary"
else
  echo "emulation ($MODE): FAILED (exit $rc): $summary"
fi
exit $rc
