#!/usr/bin/env bash
# gpu-cifar.sh: the CIFAR-10 ResNet-20 runs of docs/results.md on a GPU.
#
#   bash bench/gpu-cifar.sh [OUT_DIR] [ACT ...]   # ACT: rrelu, relu (default: both, rrelu first)
#
# Needs .data/cifar10-jpg.tar.gz (the JPEG copy of ../shared/datasets, see
# docs/gpu.md) and, on a bare machine, .gpu-debs/. Builds like gpu-check.sh,
# then trains ResNet-20 for 30 epochs per activation with the recipe of the
# PyTorch reference: SGD Nesterov momentum 0.9, one-cycle peak 0.1 with 15%
# warm-up, weight decay 5e-4 on every parameter (slopes included), batch 128,
# type-I initialisation, augmentation on. bench/gpu-check.sh's
# resnet20_epoch step says how long one epoch takes: if two runs do not fit
# one device call, name one activation per call.
#
# OUT_DIR gets log.txt, summary.txt and, per run, ACT-metrics.jsonl,
# ACT-summary.json and ACT-model.rotor (the trained model, for rotor prune
# and rotor report on the development machine).
set -u
cd "$(dirname "$0")/.." || exit 1
OUT_DIR=${1:-${OUT:-./gpu-results}}
shift || true
ACTS=("$@")
[ ${#ACTS[@]} -eq 0 ] && ACTS=(rrelu relu)
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
# shellcheck source=bench/gpu-lib.sh
source bench/gpu-lib.sh

log "gpu-cifar: $(date -u +%Y-%m-%dT%H:%M:%SZ), output in $OUT_DIR, runs: ${ACTS[*]}"
GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
log "GPU: ${GPU_NAME:-unknown}"

unpack_deps
build_rotor

if [ "$BUILD_OK" = 1 ] && [ ! -f .data/cifar10-jpg.tar.gz ]; then
  record data "FAILED: no .data/cifar10-jpg.tar.gz (see docs/gpu.md)"
elif [ "$BUILD_OK" = 1 ]; then
  C10=$(mktemp -d)
  tar xzf .data/cifar10-jpg.tar.gz -C "$C10"
  record data "CIFAR-10 JPEG: $(find "$C10/cifar10-jpg/train" -name '*.jpg' | wc -l) train, $(find "$C10/cifar10-jpg/test" -name '*.jpg' | wc -l) test images"
  for act in "${ACTS[@]}"; do
    RUN=$C10/run-$act
    S0=$(date +%s)
    run "resnet20_$act" 600 "$BUILD/apps/rotor" train --model resnet20 --act "$act" --init type1 \
      --data "folder:$C10/cifar10-jpg" --device cuda --batch 128 --epochs 30 \
      --opt sgd --nesterov --momentum 0.9 --lr 0.1 --schedule onecycle --warmup 0.15 --wd 5e-4 --slope-wd 5e-4 \
      --seed 1 --out "$RUN" --force
    rc=$?
    wall=$(( $(date +%s) - S0 ))
    M=$RUN/metrics.jsonl
    if [ -f "$M" ]; then
      cp "$M" "$OUT_DIR/$act-metrics.jsonl"
      [ -f "$RUN/summary.json" ] && cp "$RUN/summary.json" "$OUT_DIR/$act-summary.json"
      [ -f "$RUN/model.rotor" ] && cp "$RUN/model.rotor" "$OUT_DIR/$act-model.rotor"
      train_s=$(awk -F'"epoch_s": ' 'NF > 1 {split($2, a, /[,}]/); s += a[1]} END {printf "%.1f", s}' "$M")
      record "resnet20_$act" "$(wc -l < "$M")/30 epochs, test_acc $(metric "$M" test_acc), training $train_s s (wall $wall s with data loading and evaluation) ($(describe_rc $rc))"
    else
      record "resnet20_$act" "no metrics ($(describe_rc $rc), see log.txt)"
    fi
  done
fi

{
  echo
  echo "================ gpu-cifar summary ($(elapsed) s, ${GPU_NAME:-unknown GPU}) ================"
  for k in "${ORDER[@]}"; do printf "%-16s %s\n" "$k" "${STATUS[$k]}"; done
  echo "(PyTorch, same recipe and data, H200: RReLU 86.72% in 151 s, ReLU 86.97%)"
} | tee "$OUT_DIR/summary.txt" | tee -a "$LOG"
