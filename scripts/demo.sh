#!/usr/bin/env bash
# The main job on a built-in default: installs what is missing, builds rotor,
# and trains the paper's FCNN 784-500-10 with RReLU on Fashion-MNIST (real
# data from Debian's dataset-fashion-mnist) on a GPU when rotor finds one,
# else on the CPU, with a weight decay on the slopes that drives many of them
# toward zero. Prints per-epoch progress and the final accuracy and slope
# distribution, then prunes the channels whose slopes are small (gamma chosen
# on half of the test set, accuracy reported on the other half).
# Writes runs/demo/{run.json,metrics.jsonl,model.rotor,summary.json,prune/}.
# Extra arguments go to rotor train and override the demo's own (e.g.
# --epochs 3, --device cpu).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/merge-flags.sh"
install_missing
configure_and_build
cd "$ROOT"
mapfile -t train_flags < <(merge_flags --model fcnn --act rrelu --data fashion-mnist \
  --opt adam --lr 1e-3 --wd 1e-4 --slope-wd 1e-2 --schedule cosine --epochs 15 --batch 128 --seed 1 \
  --out runs/demo --force -- "$@")
"$BUILD_DIR/apps/rotor" train "${train_flags[@]}"
# The prune step follows the run wherever --out and --data put it.
out=runs/demo data=fashion-mnist
for ((i = 0; i + 1 < ${#train_flags[@]}; i++)); do
  case "${train_flags[$i]}" in
    --out) out="${train_flags[$((i + 1))]}" ;;
    --data) data="${train_flags[$((i + 1))]}" ;;
  esac
done
echo
"$BUILD_DIR/apps/rotor" prune --model-file "$out/model.rotor" --data "$data" --out "$out/prune"
