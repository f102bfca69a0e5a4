#!/usr/bin/env bash
# gpu-check.sh: the one script to run on a GPU machine (H100/H200, sm_90).
#
#   bash bench/gpu-check.sh [OUT_DIR]          # default: $OUT, else ./gpu-results
#
# From the repository root of a copy of the checkout it: unpacks the Debian
# packages carried in .gpu-debs/ (fetch them where apt works with
# `bash ../shared/gpu/fetch-debs.sh .gpu-debs`), configures and builds a
# Release build for sm_90 in build-gpu/, runs the GPU tests (ctest -L gpu)
# and the CPU tests, a few GPU tests under compute-sanitizer memcheck and
# racecheck, the kernel benchmarks (bench_cuda all), and, when the
# Fashion-MNIST IDX files are in .data/fashion-mnist/, the FCNN demo on the
# GPU (15 epochs) and one CPU epoch as a timing reference. The PyTorch golden
# cases run when ROTOR_GOLDEN_DIR is set or .data/golden/ holds them.
#
# Design decision: no step aborts the script. Each step's status is
# recorded and the summary table, printed LAST (the device tool returns the
# end of the output), says what passed, failed, or was skipped. Everything
# is logged to OUT_DIR/log.txt; OUT_DIR gets few files (log.txt, bench.json,
# summary.txt, the FCNN metrics), as the device tool returns at most eight.
set -u
cd "$(dirname "$0")/.."
OUT_DIR=${1:-${OUT:-./gpu-results}}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
LOG=$OUT_DIR/log.txt
: > "$LOG"
T0=$(date +%s)
# Every step's time limit is cut to what is left of HARD_S, so the summary
# is printed before the device tool's 10-minute limit even if steps hang.
HARD_S=${GPU_CHECK_HARD_S:-560}
BUILD=build-gpu
JOBS=${JOBS:-16}
declare -A STATUS
ORDER=()

log() { echo "$@" | tee -a "$LOG"; }
elapsed() { echo $(( $(date +%s) - T0 )); }
record() { STATUS[$1]=$2; ORDER+=("$1"); log "== $1: $2 ($(elapsed) s elapsed)"; }
# limit WANTED_S: the time limit a step gets (0: no time left for it).
limit() {
  local left=$(( HARD_S - $(elapsed) ))
  if [ "$left" -lt 20 ]; then echo 0; elif [ "$left" -lt "$1" ]; then echo "$left"; else echo "$1"; fi
}
# run NAME TIMEOUT_S CMD...: runs CMD with a time limit, output to the log;
# returns its status (124: timed out, 125: no time left to start it).
run() {
  local name=$1 secs
  secs=$(limit "$2")
  shift 2
  if [ "$secs" = 0 ]; then
    log "== $name: not started (time budget spent)"
    return 125
  fi
  log "== $name (limit $secs s): $*"
  timeout "$secs" "$@" >> "$LOG" 2>&1
  local rc=$?
  [ $rc -eq 124 ] && log "== $name: timed out after $secs s"
  return $rc
}
# run_to FILE NAME TIMEOUT_S CMD...: as run, output to FILE (then appended to the log).
run_to() {
  local file=$1 name=$2 secs
  secs=$(limit "$3")
  shift 3
  : > "$file"
  if [ "$secs" = 0 ]; then
    log "== $name: not started (time budget spent)"
    return 125
  fi
  log "== $name (limit $secs s): $*"
  timeout "$secs" "$@" > "$file" 2>&1
  local rc=$?
  cat "$file" >> "$LOG"
  [ $rc -eq 124 ] && log "== $name: timed out after $secs s"
  return $rc
}
describe_rc() { case $1 in 0) echo ok ;; 124) echo "TIMED OUT" ;; 125) echo "skipped (time budget)" ;; *) echo "FAILED (rc $1)" ;; esac; }

log "gpu-check: $(date -u +%Y-%m-%dT%H:%M:%SZ), output in $OUT_DIR"
log "== nvidia-smi -L"
nvidia-smi -L 2>&1 | tee -a "$LOG"
GPU_NAME=$(nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader 2>/dev/null | head -1)
log "GPU: ${GPU_NAME:-unknown}; building for CUDA architecture 90 (sm_90)"

# ---- dependencies ------------------------------------------------------------
if [ -d .gpu-debs ] && ls .gpu-debs/*.deb > /dev/null 2>&1; then
  if source <(bash .gpu-debs/unpack-debs.sh .gpu-debs /opt/deps 2>> "$LOG"); then
    record deps "unpacked .gpu-debs"
  else
    record deps "FAILED to unpack .gpu-debs"
  fi
else
  record deps "no .gpu-debs (using system packages)"
fi
if [ -z "${ROTOR_GOLDEN_DIR:-}" ] && [ -f .data/golden/index.json ]; then export ROTOR_GOLDEN_DIR=$PWD/.data/golden; fi

# ---- build -----------------------------------------------------------------------
B0=$(date +%s)
if run configure 120 cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 &&
  run build 330 cmake --build "$BUILD" -j "$JOBS"; then
  BUILD_OK=1
  record build "ok in $(( $(date +%s) - B0 )) s (sm_90)"
else
  BUILD_OK=0
  record build "FAILED after $(( $(date +%s) - B0 )) s (see log.txt)"
fi

# ctest result counts "passed/failed/skipped" from a ctest log.
ctest_counts() {
  local f=$1
  local p f_ s
  p=$(grep -cE "Test +#[0-9]+: .* Passed" "$f")
  f_=$(grep -cE "Test +#[0-9]+: .*\*\*\*(Failed|Exception|Timeout)|Test +#[0-9]+: .* (SEGFAULT|Child aborted|Subprocess aborted)" "$f")
  s=$(grep -cE "Test +#[0-9]+: .*(\*\*\*Skipped|Not Run)" "$f")
  echo "$p passed, $f_ failed, $s skipped"
}

if [ "$BUILD_OK" = 1 ]; then
  # ---- tests -----------------------------------------------------------------------
  GPU_CTEST=$(mktemp)
  run_to "$GPU_CTEST" gpu_tests 200 ctest --test-dir "$BUILD" -L gpu --output-on-failure -j 4
  rc=$?
  record gpu_tests "$(ctest_counts "$GPU_CTEST") (ctest: $(describe_rc $rc))"
  CPU_CTEST=$(mktemp)
  run_to "$CPU_CTEST" cpu_tests 90 ctest --test-dir "$BUILD" -L cpu -LE gpu --output-on-failure -j "$JOBS" --timeout 60
  rc=$?
  record cpu_tests "$(ctest_counts "$CPU_CTEST") (ctest: $(describe_rc $rc))"

  # ---- compute-sanitizer on a few small cases ------------------------------------------
  SAN=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
  for tool in memcheck racecheck; do
    if [ -z "$SAN" ]; then
      record "sanitizer_$tool" "skipped (compute-sanitizer not found)"
      continue
    fi
    SLOG=$(mktemp)
    run_to "$SLOG" "sanitizer_$tool" 100 "$SAN" --tool "$tool" "$BUILD/tests/gpu/rotor_gpu_tests" "[sanitize]"
    rc=$?
    errors=$(grep -oE "ERROR SUMMARY: [0-9]+" "$SLOG" | awk '{s += $3} END {print s + 0}')
    hazards=$(grep -oE "RACECHECK SUMMARY: [0-9]+ hazard" "$SLOG" | awk '{s += $3} END {print s + 0}')
    tests=$(grep -E "^(All tests passed|test cases:)" "$SLOG" | tail -1)
    msg="$errors errors"
    [ "$tool" = racecheck ] && msg="$msg, $hazards hazards"
    record "sanitizer_$tool" "$msg; ${tests:-no test summary} ($(describe_rc $rc))"
  done

  # ---- benchmarks --------------------------------------------------------------------
  BENCH_OUT=$(mktemp)
  run_to "$BENCH_OUT" bench 150 "$BUILD/bench/cuda/bench_cuda" all --json "$OUT_DIR/bench.json"
  rc=$?
  record bench "$(describe_rc $rc)"

  # ---- the FCNN demo on Fashion-MNIST --------------------------------------------------
  FM=.data/fashion-mnist
  if ls "$FM"/*ubyte* > /dev/null 2>&1; then
    RUNS=$(mktemp -d)
    for dev in cuda cpu; do
      epochs=15
      [ "$dev" = cpu ] && epochs=1
      run "fcnn_$dev" 120 "$BUILD/apps/rotor" train --model fcnn --act rrelu --data "fashion-mnist:$FM" \
        --device "$dev" --opt adam --lr 1e-3 --wd 1e-4 --epochs "$epochs" --out "$RUNS/fcnn-$dev" --force
      rc=$?
      M=$RUNS/fcnn-$dev/metrics.jsonl
      if [ -f "$M" ]; then
        cp "$M" "$OUT_DIR/fcnn-$dev-metrics.jsonl"
        last=$(tail -1 "$M")
        done_epochs=$(wc -l < "$M")
        epoch_s=$(echo "$last" | sed -nE 's/.*"epoch_s": ?([0-9.eE+-]+).*/\1/p')
        acc=$(echo "$last" | sed -nE 's/.*"test_acc": ?([0-9.eE+-]+).*/\1/p')
        record "fcnn_$dev" "$done_epochs/$epochs epochs, last epoch_s ${epoch_s:-?}, test_acc ${acc:-?} ($(describe_rc $rc))"
      else
        record "fcnn_$dev" "no metrics ($(describe_rc $rc), see log.txt)"
      fi
    done
  else
    record fcnn_cuda "skipped (no Fashion-MNIST IDX files in $FM)"
  fi
fi

# ---- summary (printed last) ----------------------------------------------------------
{
  echo
  echo "================ gpu-check summary ($(elapsed) s, ${GPU_NAME:-unknown GPU}, sm_90) ================"
  for k in "${ORDER[@]}"; do printf "%-20s %s\n" "$k" "${STATUS[$k]}"; done
  if [ -n "${BENCH_OUT:-}" ] && [ -f "$BENCH_OUT" ]; then
    echo "---- benchmarks (median; fraction of this run's copy bandwidth or cuBLAS SGEMM) ----"
    grep -E "^(copy|sgemm|bn_rrelu|batch_norm|conv2d_|softmax_ce|train_step) " "$BENCH_OUT" |
      sed -E 's/\(min +[0-9.]+\)//; s/ rel\.err [^ ]+//; s/  +/  /g'
    grep -E "VALIDATION FAILED|capture failed|bench_cuda:" "$BENCH_OUT"
  fi
} | tee "$OUT_DIR/summary.txt" | tee -a "$LOG"
