#!/usr/bin/env bash
# Hardening checks (CI runs them after scripts/test.sh):
#  1. fuzzing: builds the libFuzzer harnesses of tests/fuzz with clang
#     (-DROTOR_FUZZ=ON) in $FUZZ_BUILD_DIR, writes their seed corpora and runs
#     each fuzzer for $FUZZ_SECONDS; a crash, sanitizer report, leak, timeout
#     or oversized allocation fails the run (the input is kept as an artifact).
#  2. sanitizers: builds the whole CPU suite with -DROTOR_SANITIZE=ON
#     (ASan + UBSan, every report fatal; -O1) in $SANITIZE_BUILD_DIR and runs
#     all of it with ctest (golden and shared-data included).
# Cost (2 cores): about 2 CPU-minutes to build the fuzzers, 6 x FUZZ_SECONDS
# of fuzzing, about 16 CPU-minutes to build and run the sanitized suite.
# The last line is "hardening: PASS ..." or "hardening: FAIL ...".
#
#   scripts/hardening.sh              both
#   scripts/hardening.sh fuzz         only the fuzzers
#   scripts/hardening.sh sanitize     only the sanitizer suite
# Environment: FUZZ_SECONDS (30 per fuzzer), FUZZERS (all: "idx cifar mat
# image tensor_file json"), FUZZ_BUILD_DIR (build-fuzz/), SANITIZE_BUILD_DIR
# (build-sanitize/), HARDENING_JOBS (parallel build and test jobs: nproc).
set -euo pipefail
source "$(dirname "$0")/setup.sh"

what=${1:-all}
case "$what" in all|fuzz|sanitize) ;; *) echo "usage: scripts/hardening.sh [all|fuzz|sanitize]" >&2; exit 2 ;; esac
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
FUZZERS=${FUZZERS:-"idx cifar mat image tensor_file json"}
FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
SANITIZE_BUILD_DIR=${SANITIZE_BUILD_DIR:-$ROOT/build-sanitize}
JOBS=${HARDENING_JOBS:-$(nproc)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failures=()
start=$SECONDS

install_missing
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)

run_fuzzers() {
  echo "== hardening: fuzzers (${FUZZ_SECONDS} s each) in $FUZZ_BUILD_DIR"
  # Only the parsers are instrumented (tests/fuzz/CMakeLists.txt); -O1 keeps
  # the rest of the library quick to compile.
  cmake -S "$ROOT" -B "$FUZZ_BUILD_DIR" "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" -DROTOR_FUZZ=ON \
    -DROTOR_WITH_CUDA=OFF -DROTOR_BUILD_TESTS=OFF -DROTOR_BUILD_BENCH=OFF ${ROTOR_CMAKE_ARGS:-} >/dev/null
  local targets=(make_seeds)
  for f in $FUZZERS; do targets+=("fuzz_$f"); done
  cmake --build "$FUZZ_BUILD_DIR" -j "$JOBS" --target "${targets[@]}"
  rm -rf "$FUZZ_BUILD_DIR/seeds"
  "$FUZZ_BUILD_DIR/tests/fuzz/make_seeds" "$FUZZ_BUILD_DIR/seeds"
  mkdir -p "$FUZZ_BUILD_DIR/artifacts"
  for f in $FUZZERS; do
    local corpus="$FUZZ_BUILD_DIR/corpus/$f" log="$FUZZ_BUILD_DIR/fuzz_$f.log"
    mkdir -p "$corpus"
    # New inputs go to corpus/ (kept between runs); seeds/ is read only.
    # 2 GiB of RSS or a single 1 GiB allocation counts as a finding: the
    # seeds are a few kB, no honest input of that size needs that much.
    if "$FUZZ_BUILD_DIR/tests/fuzz/fuzz_$f" "$corpus" "$FUZZ_BUILD_DIR/seeds/$f" -max_total_time="$FUZZ_SECONDS" \
        -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$FUZZ_BUILD_DIR/artifacts/$f-" >"$log" 2>&1; then
      echo "fuzz_$f: ok, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs," \
        "$(grep -o 'cov: [0-9]*' "$log" | tail -1), corpus $(ls "$corpus" | wc -l) files"
    else
      echo "fuzz_$f: FAILED (log $log); the last lines:"
      tail -n 30 "$log"
      failures+=("fuzz_$f")
    fi
  done
}

run_sanitized_suite() {
  echo "== hardening: CPU suite under ASan+UBSan in $SANITIZE_BUILD_DIR"
  # -O1: the sanitizers need no more, and it halves the compile time.
  cmake -S "$ROOT" -B "$SANITIZE_BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" -DROTOR_SANITIZE=ON -DROTOR_WITH_CUDA=OFF -DROTOR_BUILD_BENCH=OFF ${ROTOR_CMAKE_ARGS:-} >/dev/null
  cmake --build "$SANITIZE_BUILD_DIR" -j "$JOBS"
  # -LE onnx: the ONNX Runtime comparison (a Python venv of its own, ~2 min)
  # runs in scripts/test.sh; the exporter's own tests run here.
  if ! (cd "$SANITIZE_BUILD_DIR" && ctest --output-on-failure -j "$JOBS" -L cpu -LE onnx); then
    failures+=("sanitized CPU suite")
  fi
}

[ "$what" = sanitize ] || run_fuzzers
[ "$what" = fuzz ] || run_sanitized_suite
elapsed=$((SECONDS - start))
if [ ${#failures[@]} -eq 0 ]; then
  echo "hardening: PASS ($what, ${elapsed} s)"
else
  echo "hardening: FAIL: ${failures[*]} ($what, ${elapsed} s)"
  exit 1
fi
