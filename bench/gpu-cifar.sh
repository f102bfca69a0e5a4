#!/usr/bin/env bash
# gpu-cifar.sh: CIFAR-10 training runs on a GPU, longer than one device call
# if need be (finished piecewise across calls; docs/gpu.md says how).
#
#   bash bench/gpu-cifar.sh [OUT_DIR] [ACT ...]   # ACT: rrelu, relu (default: both, rrelu first)
#
# Needs .data/cifar10-jpg.tar.gz (the JPEG copy of ../shared/datasets) and
# the prebuilt .gpu-build/ (scripts/gpu-prebuild.sh) or, on a bare machine,
# .gpu-debs/ to build there. A new run trains CIFAR_MODEL (default resnet20)
# for CIFAR_EPOCHS (default 30) with the recipe of the PyTorch reference:
# SGD Nesterov momentum 0.9, one-cycle peak 0.1 with 15% warm-up, weight
# decay 5e-4 on every parameter (slopes included), batch 128, type-I
# initialisation, augmentation on; CIFAR_RECIPE=multistep takes the paper's
# schedule instead (rate 0.1, /10 at 50% and 75% of the epochs), and
# CIFAR_FLAGS adds any other `rotor train` flags.
#
# Resuming: when .data/resume/ACT/ holds run.json, checkpoint.rotor and
# metrics.jsonl (the files an earlier call returned), the run continues from
# there with `rotor train --resume` (its recipe is the one in run.json;
# CIFAR_EPOCHS, if set, changes its length).
#
# Each run gets an equal share of the time left (a run that ends early
# leaves its rest to the next) and is stopped with SIGTERM before the budget
# ends; `rotor train` writes checkpoint.rotor at the end of every epoch, so
# a stopped run resumes from its last finished epoch (or from the step where
# it stopped, if SIGTERM makes it checkpoint). OUT_DIR gets log.txt,
# summary.txt and, per run, ACT-run.tar (run.json, checkpoint.rotor,
# metrics.jsonl, and when the run is finished model.rotor and summary.json:
# unpack it into .data/resume/ACT/ to continue) and ACT-metrics.jsonl: at
# most 8 files for up to three runs.
set -u
cd "$(dirname "$0")/.." || exit 1
OUT_DIR=${1:-${OUT:-./gpu-results}}
shift || true
ACTS=("$@")
[ ${#ACTS[@]} -eq 0 ] && ACTS=(rrelu relu)
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
SUMMARY_TITLE="gpu-cifar summary"
# shellcheck source=bench/gpu-lib.sh
source bench/gpu-lib.sh
summary_extra() { echo "(PyTorch, same recipe and data, H200: ResNet-20 30 epochs RReLU 86.72% in 151 s, ReLU 86.97%)"; }

MODEL=${CIFAR_MODEL:-resnet20}
RECIPE=${CIFAR_RECIPE:-onecycle}
# The data set is unpacked at a fixed place: run.json records its path, and a
# resumed run (which may not change --data) finds it there in a later call.
DATA_ROOT=${CIFAR_DATA_ROOT:-/tmp/rotor-data}
RUN_ROOT=${CIFAR_RUN_ROOT:-/tmp/rotor-cifar-runs}
# Seconds kept after the runs: packing the run files and the last summary;
# and the grace a stopped run gets between SIGTERM and SIGKILL.
PACK_S=25
TERM_GRACE_S=20

log "gpu-cifar: $(date -u +%Y-%m-%dT%H:%M:%SZ), output in $OUT_DIR, runs: ${ACTS[*]}, budget $HARD_S s"
[ ${#ACTS[@]} -gt 3 ] && log "warning: ${#ACTS[@]} runs return $((2 + 2 * ${#ACTS[@]})) files; the device tool brings back 8"
device_report
setup_binaries

recipe_flags() {
  local epochs=${CIFAR_EPOCHS:-30}
  case $RECIPE in
    onecycle) echo "--epochs $epochs --opt sgd --nesterov --momentum 0.9 --lr 0.1 --schedule onecycle --warmup 0.15 --wd 5e-4 --slope-wd 5e-4" ;;
    multistep) echo "--epochs $epochs --opt sgd --nesterov --momentum 0.9 --lr 0.1 --schedule multistep --wd 5e-4 --slope-wd 5e-4" ;;
    *) return 1 ;;
  esac
}

# Sets the run's data path in run.json to where the data set is now.
point_at_data() {
  local run_json=$1 data=$2 old
  old=$(sed -nE 's/.*"data": *"([^"]*)".*/\1/p' "$run_json" | head -1)
  if [ "$old" != "$data" ]; then
    sed -i -E "s|\"data\": *\"[^\"]*\"|\"data\": \"$data\"|" "$run_json"
    log "run.json: data $old -> $data"
  fi
}

# Packs a run's files into OUT_DIR (ACT-run.tar, ACT-metrics.jsonl).
pack_run() {
  local act=$1 dir=$2 files=() f
  for f in run.json checkpoint.rotor metrics.jsonl model.rotor summary.json; do [ -f "$dir/$f" ] && files+=("$f"); done
  [ ${#files[@]} -gt 0 ] && tar cf "$OUT_DIR/$act-run.tar" -C "$dir" "${files[@]}"
  [ -f "$dir/metrics.jsonl" ] && cp "$dir/metrics.jsonl" "$OUT_DIR/$act-metrics.jsonl"
  return 0
}

if [ "$BUILD_OK" = 1 ] && ! recipe_flags > /dev/null; then
  record data "FAILED: CIFAR_RECIPE must be onecycle or multistep, not '$RECIPE'"
elif [ "$BUILD_OK" = 1 ] && [ ! -f .data/cifar10-jpg.tar.gz ]; then
  record data "FAILED: no .data/cifar10-jpg.tar.gz (see docs/gpu.md)"
elif [ "$BUILD_OK" = 1 ] && [ ! -f "$DATA_ROOT/cifar10-jpg/.complete" ] &&
  ! { rm -rf "$DATA_ROOT/cifar10-jpg" && mkdir -p "$DATA_ROOT" &&
      run unpack_cifar 120 tar xzf .data/cifar10-jpg.tar.gz -C "$DATA_ROOT" && touch "$DATA_ROOT/cifar10-jpg/.complete"; }; then
  record data "FAILED to unpack .data/cifar10-jpg.tar.gz into $DATA_ROOT (see log.txt)"
elif [ "$BUILD_OK" = 1 ]; then
  DATA="folder:$DATA_ROOT/cifar10-jpg"
  record data "CIFAR-10 JPEG in $DATA_ROOT: $(find "$DATA_ROOT/cifar10-jpg/train" -name '*.jpg' | wc -l) train, $(find "$DATA_ROOT/cifar10-jpg/test" -name '*.jpg' | wc -l) test images"
  left=${#ACTS[@]}
  for act in "${ACTS[@]}"; do
    RUN=$RUN_ROOT/run-$act
    share=$(( (HARD_S - $(elapsed) - PACK_S - TERM_GRACE_S) / left ))
    left=$((left - 1))
    RESUME=.data/resume/$act
    if [ -f "$RESUME/run.json" ] && [ -f "$RESUME/checkpoint.rotor" ]; then
      rm -rf "$RUN" && mkdir -p "$RUN"
      cp "$RESUME"/* "$RUN/"
      rm -f "$RUN/model.rotor" "$RUN/summary.json"
      point_at_data "$RUN/run.json" "$DATA"
      before=$(wc -l < "$RUN/metrics.jsonl" 2>/dev/null || echo 0)
      epochs_flag=()
      [ -n "${CIFAR_EPOCHS:-}" ] && epochs_flag=(--epochs "$CIFAR_EPOCHS")
      how="resumed after epoch <= $before"
      cmd=("$BIN_ROTOR" train --resume "$RUN" --device cuda "${epochs_flag[@]}")
    else
      [ -d "$RESUME" ] && log "$RESUME lacks run.json or checkpoint.rotor: starting $act afresh"
      # (rotor train may fail before --force clears the folder: no old files may be taken for this run's.)
      rm -rf "$RUN"
      before=0
      how="new $MODEL $RECIPE"
      # shellcheck disable=SC2207,SC2206  # recipe_flags and CIFAR_FLAGS are split into words on purpose
      cmd=("$BIN_ROTOR" train --model "$MODEL" --act "$act" --init type1 --data "$DATA" --device cuda --batch 128
           $(recipe_flags) --seed 1 --out "$RUN" --force ${CIFAR_FLAGS:-})
    fi
    S0=$(date +%s)
    if [ "$share" -lt 30 ]; then
      record "run_$act" "not started (time budget spent)"
      continue
    fi
    log "== run_$act ($how, SIGTERM after $share s): ${cmd[*]}"
    RUNNING="run_$act (started at $(elapsed) s, stopped after $share s)"
    write_summary
    timeout -s TERM -k "$TERM_GRACE_S" "$share" "${cmd[@]}" >> "$LOG" 2>&1
    rc=$?
    wall=$(( $(date +%s) - S0 ))
    pack_run "$act" "$RUN"
    M=$RUN/metrics.jsonl
    total=$(sed -nE 's/.*"epochs": *([0-9]+).*/\1/p' "$RUN/run.json" 2>/dev/null | head -1)
    total=${total:-${CIFAR_EPOCHS:-30}}
    if [ -f "$RUN/summary.json" ] && [ -f "$RUN/model.rotor" ]; then
      state="FINISHED $(wc -l < "$M")/$total epochs"
    elif { [ $rc -eq 124 ] || [ $rc -eq 137 ]; } && [ ! -f "$RUN/checkpoint.rotor" ]; then
      state="STOPPED at the time limit before its first checkpoint (a later call starts it afresh)"
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
      state="STOPPED at the time limit after $(wc -l < "$M" 2>/dev/null || echo 0)/$total epochs (checkpoint.rotor in $act-run.tar: resume it)"
    else
      state="FAILED (rc $rc) after $(wc -l < "$M" 2>/dev/null || echo 0)/$total epochs: $(last_output)"
    fi
    if [ -f "$M" ]; then
      train_s=$(awk -F'"epoch_s": ' 'NF > 1 {split($2, a, /[,}]/); s += a[1]} END {printf "%.1f", s}' "$M")
      record "run_$act" "$how; $state, test_acc $(metric "$M" test_acc), training $train_s s in all (this call: wall $wall s$([ "$before" = 0 ] && echo ", $(wc -l < "$M") epochs"))"
    else
      record "run_$act" "$how; $state, no metrics"
    fi
  done
fi

check_out_dir
write_summary
echo
tee -a "$LOG" < "$OUT_DIR/summary.txt"
final_status
