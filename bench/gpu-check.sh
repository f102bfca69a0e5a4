#!/usr/bin/env bash
# gpu-check.sh: the one script to run on a GPU machine (H100/H200, sm_90).
#
#   bash bench/gpu-check.sh [OUT_DIR]          # default: $OUT, else ./gpu-results
#
# From the repository root of a copy of the checkout it: unpacks the Debian
# packages carried in .gpu-debs/ (fetch them where apt works with
# `bash ../shared/gpu/fetch-debs.sh .gpu-debs`), configures and builds a
# Release build for sm_90 (env GPU_ARCH) in build-gpu/ (env GPU_BUILD_DIR),
# runs the GPU tests (ctest -L gpu) and the CPU tests, a few GPU tests under
# compute-sanitizer memcheck and racecheck, the kernel benchmarks
# (bench_cuda all), and, when the
# Fashion-MNIST IDX files are in .data/fashion-mnist/, the FCNN demo on the
# GPU (15 epochs) and one CPU epoch as a timing reference, the pruned-model
# forward benchmark on the GPU, and, when .data/cifar10-jpg.tar.gz is there,
# one epoch of the CIFAR-10 ResNet-20 recipe of docs/results.md (to size the
# 30-epoch runs of bench/gpu-cifar.sh). The PyTorch golden cases run when
# ROTOR_GOLDEN_DIR is set or .data/golden/ holds them.
#
# No step aborts the script (see bench/gpu-lib.sh); the summary table is
# printed LAST. Everything is logged to OUT_DIR/log.txt; OUT_DIR gets few
# files (log.txt, bench.json, summary.txt, metrics), as the device tool
# returns only a few.
set -u
cd "$(dirname "$0")/.." || exit 1
OUT_DIR=${1:-${OUT:-./gpu-results}}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
# shellcheck source=bench/gpu-lib.sh
source bench/gpu-lib.sh

log "gpu-check: $(date -u +%Y-%m-%dT%H:%M:%SZ), output in $OUT_DIR"
log "== nvidia-smi -L"
nvidia-smi -L 2>&1 | tee -a "$LOG"
GPU_NAME=$(nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader 2>/dev/null | head -1)
log "GPU: ${GPU_NAME:-unknown}; building for CUDA architectures $GPU_ARCH"

# ---- dependencies and build ---------------------------------------------------------
unpack_deps
build_rotor

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
        record "fcnn_$dev" "$(wc -l < "$M")/$epochs epochs, last epoch_s $(metric "$M" epoch_s), test_acc $(metric "$M" test_acc) ($(describe_rc $rc))"
      else
        record "fcnn_$dev" "no metrics ($(describe_rc $rc), see log.txt)"
      fi
    done
  else
    record fcnn_cuda "skipped (no Fashion-MNIST IDX files in $FM)"
  fi

  # ---- forward time of a pruned ResNet-56 against the original -------------------------
  PRUNED_OUT=$(mktemp)
  run_to "$PRUNED_OUT" pruned_forward 60 "$BUILD/bench/bench_pruned_forward" --device cuda --model resnet56
  rc=$?
  record pruned_forward "$(grep -E "^ +(128|1) " "$PRUNED_OUT" | awk '{printf "batch %s: %s ms -> %s ms (%s); ", $1, $2, $3, $4}')($(describe_rc $rc))"

  # ---- one epoch of the CIFAR-10 ResNet-20 recipe (sizes bench/gpu-cifar.sh) ----------
  if [ -f .data/cifar10-jpg.tar.gz ]; then
    C10=$(mktemp -d)
    tar xzf .data/cifar10-jpg.tar.gz -C "$C10"
    run resnet20_epoch 120 "$BUILD/apps/rotor" train --model resnet20 --act rrelu --data "folder:$C10/cifar10-jpg" \
      --device cuda --opt sgd --nesterov --lr 0.1 --wd 5e-4 --schedule onecycle --epochs 30 --stop-after 1 \
      --out "$C10/run" --force
    rc=$?
    M=$C10/run/metrics.jsonl
    if [ -f "$M" ]; then
      e=$(metric "$M" epoch_s)
      record resnet20_epoch "epoch_s $e (30 epochs ~ $(awk -v e="$e" 'BEGIN {printf "%.0f", 30 * e}') s), test_acc after 1 $(metric "$M" test_acc) ($(describe_rc $rc))"
    else
      record resnet20_epoch "no metrics ($(describe_rc $rc), see log.txt)"
    fi
  else
    record resnet20_epoch "skipped (no .data/cifar10-jpg.tar.gz)"
  fi
fi

# ---- summary (printed last) ----------------------------------------------------------
{
  echo
  echo "================ gpu-check summary ($(elapsed) s, ${GPU_NAME:-unknown GPU}, CUDA architectures $GPU_ARCH) ================"
  for k in "${ORDER[@]}"; do printf "%-20s %s\n" "$k" "${STATUS[$k]}"; done
  if [ -n "${BENCH_OUT:-}" ] && [ -f "$BENCH_OUT" ]; then
    echo "---- benchmarks (median; fraction of this run's copy bandwidth or cuBLAS SGEMM) ----"
    grep -E "^(copy|sgemm|bn_rrelu|batch_norm|conv2d_|softmax_ce|train_step) " "$BENCH_OUT" |
      sed -E 's/\(min +[0-9.]+\)//; s/ rel\.err [^ ]+//; s/  +/  /g'
    grep -E "VALIDATION FAILED|capture failed|bench_cuda:" "$BENCH_OUT"
  fi
} | tee "$OUT_DIR/summary.txt" | tee -a "$LOG"
