#!/usr/bin/env bash
# gpu-check.sh: the one script to run on a GPU machine (H100/H200, sm_90).
#
#   bash bench/gpu-check.sh [OUT_DIR]          # default: $OUT, else ./gpu-results
#
# Steps, most valuable first (the budget may cut the last ones; see
# docs/gpu.md for the device call and what each summary line means):
#   device          one line: GPU, driver, toolkit, CMake
#   binaries        the carried .gpu-build/ (scripts/gpu-prebuild.sh) if it
#                   is this tree's and starts here, else a build here
#                   (unpacking the Debian packages carried in .gpu-debs/)
#   gpu_tests       rotor_gpu_tests, run directly (not through ctest: a
#                   carried build's ctest files hold another machine's
#                   paths), with CUDA_LAUNCH_BLOCKING=1 so that a fault names
#                   its kernel; after a crash, each test case on its own
#   gpu_golden      the PyTorch golden cases on the GPU (.data/golden)
#   first_train     the first GPU training run (FCNN, 1 epoch), also with
#                   CUDA_LAUNCH_BLOCKING=1
#   bench           bench_cuda all (kernels against the measured ceilings)
#   train_step_*    bench_cuda train_step --model resnet20|resnet56 --batch 128
#   memory_wrn40_4  bench_cuda memory --model wrn-40-4 --batch 128: peak GPU
#                   memory of a training step (allocator, workspaces, device)
#   pytorch_step    bench/pytorch_step.py, where torch imports
#   fcnn_cuda       the FCNN demo on Fashion-MNIST, 15 epochs
#   resnet20_epoch  one epoch of the CIFAR-10 ResNet-20 recipe
#   pruned_forward  a pruned ResNet-56's forward time against the original
#   sanitizer_*     memcheck, racecheck, initcheck, synccheck on [sanitize]
#   ncu             Nsight Compute on a few bench_cuda kernels
#   train_step_resnet20_fp16  the ResNet-20 step with --precision fp16
# Steps whose binary, subcommand or script this build lacks say "not
# available in this build". No GPU step runs on the CPU.
#
# No step aborts the script (see bench/gpu-lib.sh); OUT_DIR/summary.txt is
# rewritten after every step and printed last. OUT_DIR gets at most 7 files:
# log.txt, summary.txt, bench.json, train-step.json, pytorch-step.txt,
# fcnn-metrics.jsonl, resnet20-metrics.jsonl.
set -u
cd "$(dirname "$0")/.." || exit 1
OUT_DIR=${1:-${OUT:-./gpu-results}}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
SUMMARY_TITLE="gpu-check summary"
# shellcheck source=bench/gpu-lib.sh
source bench/gpu-lib.sh
TMPD=$(mktemp -d)

# The benchmark table, under the step lines of summary.txt.
summary_extra() {
  [ -n "${BENCH_OUT:-}" ] && [ -s "$BENCH_OUT" ] || return 0
  echo "---- benchmarks (median; fraction of this run's copy bandwidth or cuBLAS SGEMM) ----"
  grep -E "^(copy|sgemm|bn_rrelu|batch_norm|bn_add_act|conv2d_|softmax_ce|train_step) " "$BENCH_OUT" |
    sed -E 's/\(min +[0-9.]+\)//; s/ rel\.err [^ ]+//; s/  +/  /g'
  grep -E "VALIDATION FAILED|capture failed|bench_cuda:" "$BENCH_OUT"
  return 0
}

# The Catch2 result line of a test binary's output ("All tests passed (...)"
# or "test cases: N | P passed | F failed"), else why there is none.
catch_result() {
  local line
  line=$(last_match "$1" "ROTOR_REQUIRE_GPU=1 but")
  [ -n "$line" ] && { line=${line#ROTOR_REQUIRE_GPU=1 but }; echo "${line%: failed}"; return; }
  line=$(last_match "$1" "^(All tests passed|test cases:|No tests ran)")
  if [ -n "$line" ]; then echo "$line"; else echo "no Catch2 result line (crashed?): $(grep -v '^$' "$1" | tail -1 | cut -c1-160)"; fi
}
# The names of the test cases that failed, from Catch2's console output.
failed_cases() {
  awk '/^-------------------------------------------------------+$/ {dash = !dash; if (dash) { getline; name = $0 } next}
       /FAILED:|due to a fatal error condition/ { if (!(name in seen)) { seen[name] = 1; printf "%s%s", sep, name; sep = "; " } }' "$1"
}
# Catch2 test spec for one test case name (commas and brackets escaped).
case_spec() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/,/\\,/g' -e 's/\[/\\[/g' -e 's/\]/\\]/g'; }

# Runs every test case on its own (after a crash of the whole binary); sets
# ISOLATED to what it found.
isolate_cases() {
  local names out rc bad=() n=0
  mapfile -t names < <("$BIN_GPU_TESTS" --list-test-names-only 2>/dev/null | grep -v '^$' | grep -v 'test cases')
  for name in "${names[@]}"; do
    out=$(mktemp)
    run_to "$out" "gpu_test_case" 40 env CUDA_LAUNCH_BLOCKING=1 "$BIN_GPU_TESTS" "$(case_spec "$name")"
    rc=$?
    [ $rc -eq 125 ] && break
    n=$((n + 1))
    [ $rc -eq 0 ] || bad+=("$name ($(describe_rc $rc): $(catch_result "$out" | cut -c1-80))")
  done
  ISOLATED="$n/${#names[@]} cases run one by one; ${#bad[@]} failed or crashed"
  [ ${#bad[@]} -gt 0 ] && ISOLATED="$ISOLATED: $(printf '%s; ' "${bad[@]}")"
}

# One bench_cuda train_step run (model, precision): a summary line with
# both modes (eager, graph); its JSON joins $OUT_DIR/train-step.json.
STEP_JSONS=()
train_step() {
  local m=$1 p=$2 name=train_step_$1 T J rc line
  [ "$p" = tf32 ] || name=${name}_$p
  T=$TMPD/$name.txt
  J=$TMPD/$name.json
  run_to "$T" "$name" 60 "$BIN_BENCH_CUDA" train_step --model "$m" --batch 128 --precision "$p" --json "$J"
  rc=$?
  if [ $rc -eq 2 ] && grep -qE "^usage: bench_cuda|unknown flag --(model|batch|precision)" "$T"; then
    record "$name" "not available in this build (bench_cuda train_step takes no --model/--batch/--precision)"
    return
  fi
  if [ -s "$J" ]; then
    STEP_JSONS+=("\"${name#train_step_}\": $(cat "$J")")
    (IFS=,; echo "{${STEP_JSONS[*]}}") > "$OUT_DIR/train-step.json"
  fi
  line=$(grep -E "^train_step impl=" "$T" | sed -E 's/\(min +[0-9.]+\)//; s/  +/  /g' | paste -sd ';' -)
  record "$name" "${line:-no train_step line: $(grep -v '^$' "$T" | tail -1 | cut -c1-120)} ($(describe_rc $rc))"
}

log "gpu-check: $(date -u +%Y-%m-%dT%H:%M:%SZ), output in $OUT_DIR, budget $HARD_S s"
device_report
setup_binaries

NO_BUILD="skipped (no binaries: see the binaries line)"
FM=.data/fashion-mnist
# ---- GPU tests (CUDA_LAUNCH_BLOCKING=1: a fault names its kernel) ---------------------
if [ "$BUILD_OK" = 1 ]; then
  T=$TMPD/gpu-tests.txt
  run_to "$T" gpu_tests 150 env CUDA_LAUNCH_BLOCKING=1 "$BIN_GPU_TESTS"
  rc=$?
  msg="$(catch_result "$T") ($(describe_rc $rc))"
  failed=$(failed_cases "$T")
  [ -n "$failed" ] && msg="$msg; failed: $failed"
  record gpu_tests "$msg"
  if [ $rc -ne 0 ] && [ $rc -ne 125 ] && ! grep -qE "^(All tests passed|test cases:)" "$T" &&
    ! grep -q "ROTOR_REQUIRE_GPU=1 but" "$T"; then
    isolate_cases
    record gpu_tests_isolated "$ISOLATED"
  fi

  T=$TMPD/golden.txt
  if [ -z "${ROTOR_GOLDEN_DIR:-}" ]; then
    record gpu_golden "skipped (no .data/golden/index.json)"
  else
    run_to "$T" gpu_golden 60 "$BIN_GOLDEN"
    rc=$?
    record gpu_golden "$(catch_result "$T") ($(describe_rc $rc))"
  fi
else
  record gpu_tests "$NO_BUILD"
fi

# ---- the first training run, kernel faults reported where they happen ----------------
if [ "$BUILD_OK" = 1 ] && ls "$FM"/*ubyte* > /dev/null 2>&1; then
  run first_train 60 env CUDA_LAUNCH_BLOCKING=1 "$BIN_ROTOR" train --model fcnn --act rrelu \
    --data "fashion-mnist:$FM" --device cuda --opt adam --lr 1e-3 --epochs 1 --out "$TMPD/first" --force
  rc=$?
  M=$TMPD/first/metrics.jsonl
  if [ -f "$M" ]; then
    record first_train "FCNN 1 epoch with CUDA_LAUNCH_BLOCKING=1: test_acc $(metric "$M" test_acc), epoch_s $(metric "$M" epoch_s) ($(describe_rc $rc))"
  else
    record first_train "FCNN 1 epoch with CUDA_LAUNCH_BLOCKING=1: no metrics ($(describe_rc $rc)): $(last_output)"
  fi
elif [ "$BUILD_OK" = 1 ]; then
  record first_train "skipped (no Fashion-MNIST IDX files in $FM)"
fi

# ---- kernel benchmarks ----------------------------------------------------------------
if [ "$BUILD_OK" = 1 ]; then
  BENCH_OUT=$TMPD/bench.txt
  run_to "$BENCH_OUT" bench 150 "$BIN_BENCH_CUDA" all --json "$OUT_DIR/bench.json"
  rc=$?
  msg=$(describe_rc $rc)
  [ $rc -eq 77 ] && msg="FAILED (rc 77): $(last_match "$BENCH_OUT" "bench_cuda:")"
  record bench "$msg$(grep -q "VALIDATION FAILED" "$BENCH_OUT" && echo "; VALIDATION FAILED (see below)")"

  # ---- the training step of ResNet-20 and ResNet-56 at batch 128 ------------------------
  # rotor's default precision (tf32); ResNet-20 in fp16 comes last (train_step_fp16 below).
  for m in resnet20 resnet56; do train_step "$m" tf32; done

  # ---- peak GPU memory of a WRN-40-4 training step at batch 128 (target: <= 11 GB) ----
  T=$TMPD/memory.txt
  run_to "$T" memory_wrn40_4 60 "$BIN_BENCH_CUDA" memory --model wrn-40-4 --batch 128
  rc=$?
  if [ $rc -eq 2 ] && grep -q "unknown kernel 'memory'" "$T"; then
    record memory_wrn40_4 "not available in this build (bench_cuda has no memory)"
  else
    line=$(last_match "$T" "^memory ")
    record memory_wrn40_4 "${line:-no memory line: $(grep -v '^$' "$T" | tail -1 | cut -c1-120)} ($(describe_rc $rc))"
  fi
fi

# ---- the PyTorch reference of the same step ---------------------------------------------
if [ ! -f bench/pytorch_step.py ]; then
  record pytorch_step "not available in this build (no bench/pytorch_step.py)"
elif ! timeout 60 python3 -c 'import torch' > /dev/null 2>&1; then
  record pytorch_step "not available on this machine (python3 cannot import torch)"
else
  for m in resnet20 resnet56; do
    T=$TMPD/pytorch-$m.txt
    run_to "$T" "pytorch_step_$m" 90 python3 bench/pytorch_step.py --model "$m" --batch 128
    rc=$?
    { echo "## python3 bench/pytorch_step.py --model $m --batch 128 ($(describe_rc $rc))"; cat "$T"; } >> "$OUT_DIR/pytorch-step.txt"
    record "pytorch_step_$m" "$(grep -v '^$' "$T" | tail -1 | cut -c1-160) ($(describe_rc $rc))"
  done
fi

# ---- the FCNN demo on Fashion-MNIST ------------------------------------------------------
if [ "$BUILD_OK" = 1 ]; then
  if ls "$FM"/*ubyte* > /dev/null 2>&1; then
    run fcnn_cuda 120 "$BIN_ROTOR" train --model fcnn --act rrelu --data "fashion-mnist:$FM" \
      --device cuda --opt adam --lr 1e-3 --wd 1e-4 --epochs 15 --out "$TMPD/fcnn" --force
    rc=$?
    M=$TMPD/fcnn/metrics.jsonl
    if [ -f "$M" ]; then
      cp "$M" "$OUT_DIR/fcnn-metrics.jsonl"
      record fcnn_cuda "$(wc -l < "$M")/15 epochs, last epoch_s $(metric "$M" epoch_s), test_acc $(metric "$M" test_acc) ($(describe_rc $rc))"
    else
      record fcnn_cuda "no metrics ($(describe_rc $rc)): $(last_output)"
    fi
  else
    record fcnn_cuda "skipped (no Fashion-MNIST IDX files in $FM)"
  fi

  # ---- one epoch of the CIFAR-10 ResNet-20 recipe (sizes bench/gpu-cifar.sh) ----------
  if [ -f .data/cifar10-jpg.tar.gz ]; then
    C10=$TMPD/c10
    mkdir -p "$C10"
    run unpack_cifar 90 tar xzf .data/cifar10-jpg.tar.gz -C "$C10"
    rc=$?
    if [ $rc -ne 0 ]; then
      record resnet20_epoch "not started: unpacking .data/cifar10-jpg.tar.gz $(describe_rc $rc)"
    else
      run resnet20_epoch 150 "$BIN_ROTOR" train --model resnet20 --act rrelu --data "folder:$C10/cifar10-jpg" \
        --device cuda --opt sgd --nesterov --lr 0.1 --wd 5e-4 --schedule onecycle --epochs 30 --stop-after 1 \
        --out "$C10/run" --force
      rc=$?
      M=$C10/run/metrics.jsonl
      if [ -f "$M" ]; then
        cp "$M" "$OUT_DIR/resnet20-metrics.jsonl"
        e=$(metric "$M" epoch_s)
        v=$(metric "$M" eval_s)
        record resnet20_epoch "epoch_s $e + eval_s $v: 30 epochs ~ $(awk -v e="$e" -v v="$v" 'BEGIN {printf "%.0f", 30 * (e + v)}') s, 200 ~ $(awk -v e="$e" -v v="$v" 'BEGIN {printf "%.0f", 200 * (e + v)}') s; test_acc after 1 $(metric "$M" test_acc) ($(describe_rc $rc))"
      else
        record resnet20_epoch "no metrics ($(describe_rc $rc)): $(last_output)"
      fi
    fi
  else
    record resnet20_epoch "skipped (no .data/cifar10-jpg.tar.gz)"
  fi

  # ---- forward time of a pruned ResNet-56 against the original -------------------------
  T=$TMPD/pruned.txt
  run_to "$T" pruned_forward 60 "$BIN_PRUNED" --device cuda --model resnet56
  rc=$?
  msg=$(grep -E "^ +(128|1) " "$T" | awk '{printf "batch %s: %s ms -> %s ms (%s); ", $1, $2, $3, $4}')
  [ -z "$msg" ] && msg="no timings: $(grep -v '^$' "$T" | tail -1 | cut -c1-140) "
  record pruned_forward "$msg($(describe_rc $rc))"

  # ---- compute-sanitizer on the small [sanitize] cases ------------------------------------
  SAN=$(command -v compute-sanitizer || true)
  # What compute-sanitizer prints when it cannot work on this machine at all.
  REFUSED="Device not supported|not supported on this|Internal Sanitizer Error|Unable to (load|initialize|find)|[Ff]ailed to (load|initialize)|Target application terminated before first instrumented API call|Could not (find|load)"
  for tool in memcheck racecheck initcheck synccheck; do
    if [ -z "$SAN" ]; then
      record "sanitizer_$tool" "unavailable on this machine (compute-sanitizer not found)"
      continue
    fi
    T=$TMPD/sanitizer-$tool.txt
    run_to "$T" "sanitizer_$tool" 90 "$SAN" --tool "$tool" --error-exitcode 99 "$BIN_GPU_TESTS" "[sanitize]"
    rc=$?
    summary=$(last_match "$T" "ERROR SUMMARY: [0-9]+")
    if [ $rc -eq 125 ] || [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
      record "sanitizer_$tool" "$(describe_rc $rc)"
    elif [ -z "$summary" ] && grep -qE "$REFUSED" "$T"; then
      record "sanitizer_$tool" "unavailable on this machine: $(grep -E "$REFUSED" "$T" | head -1 | sed 's/^=* *//' | cut -c1-120)"
    elif [ -z "$summary" ]; then
      record "sanitizer_$tool" "FAILED (rc $rc) without a sanitizer summary: $(grep -v '^$' "$T" | tail -1 | cut -c1-120)"
    else
      errors=$(echo "$summary" | grep -oE "[0-9]+" | head -1)
      msg="$errors errors"
      [ "$errors" != 0 ] && msg="ERRORS FOUND: $errors errors (see log.txt)"
      [ "$tool" = racecheck ] && msg="$msg; $(last_match "$T" "RACECHECK SUMMARY" | sed 's/^=* *//')"
      record "sanitizer_$tool" "$msg; tests: $(catch_result "$T") (rc $rc)"
    fi
  done

  # ---- Nsight Compute on the fused BN+RReLU and conv kernels --------------------------------
  NCU=$(command -v ncu || true)
  if [ -z "$NCU" ]; then
    record ncu "unavailable on this machine (ncu not found)"
  else
    T=$TMPD/ncu.txt
    run_to "$T" ncu 60 "$NCU" --section SpeedOfLight -k "regex:bn|rrelu|conv" --launch-count 6 \
      "$BIN_BENCH_CUDA" bn_rrelu --repeats 3
    rc=$?
    n=$(grep -cE "^  [A-Za-z_].*\(([0-9]+, ){2}[0-9]+\)x\(" "$T")
    if grep -qE "ERR_NVGPUCTRPERM|not supported|Device not supported|==ERROR== (Failed|Unable|Profiling)" "$T"; then
      record ncu "unavailable on this machine: $(grep -E "ERR_NVGPUCTRPERM|not supported|==ERROR==" "$T" | head -1 | cut -c1-120)"
    else
      record ncu "$n kernels profiled (SpeedOfLight in log.txt) ($(describe_rc $rc))"
    fi
  fi
fi

# ---- ResNet-20's step in fp16 (the sm_75 path; the H200 runs it too) -------------------
[ "$BUILD_OK" = 1 ] && train_step resnet20 fp16

check_out_dir
write_summary
echo
tee -a "$LOG" < "$OUT_DIR/summary.txt"
rm -rf "$TMPD"
final_status
