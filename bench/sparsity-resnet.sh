#!/usr/bin/env bash
# The ResNet half of the implicit-vs-explicit comparison (docs/results.md):
# ResNet-20 on the CIFAR-10 JPEG copy, per seed
#   implicit   RReLU, slope weight decay (--slope-wd $SLOPE_WD)
#   slope-l1   the same plus --slope-l1 $SLOPE_L1
#   slimming   ReLU with --bn-l1 $BN_L1, pruned --by bn-scale
# with the repository's SGD recipe, then a gamma sweep: rotor prune --gamma G
# (whole test set; FLOPs from the pruned network's cost accounting) at POINTS
# of the gammas the automatic search tried. Writes OUT/sweep.csv in the
# format of bench/sparsity-compare.sh, and the same summary and figure.
#
#   tar xzf ../shared/datasets/cifar10-jpg.tar.gz -C /tmp/c10
#   DATA=folder:/tmp/c10/cifar10-jpg bash bench/sparsity-resnet.sh [OUT]
#   env: ROTOR, SEEDS ("1 2"), EPOCHS (30), JOBS (1), THREADS (0 = all),
#        DEVICE (auto), SLOPE_WD (1e-3), SLOPE_L1, BN_L1, POINTS (8),
#        TRAIN_LIMIT (0 = all 50,000 training images; else that many, evenly
#        spaced, for a short CPU schedule)
# SLOPE_L1 and BN_L1 default to the FCNN comparison's rule (docs/results.md):
# the whole schedule's proximal shrink, sum(lr) * lambda, is about 0.7 for
# the slopes and 1.0 for the BN scales (both start near 1); onecycle from
# peak 0.1 averages about 0.05 per step.
# On a GPU a 30-epoch run takes minutes; on a 2-core CPU an epoch takes 6+.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROTOR=${ROTOR:-$ROOT/build/apps/rotor}
OUT=${1:-runs/sparsity-resnet}
DATA=${DATA:?set DATA=folder:DIR (the unpacked CIFAR-10 JPEG copy)}
SEEDS=${SEEDS:-1 2}
EPOCHS=${EPOCHS:-30}
JOBS=${JOBS:-1}
THREADS=${THREADS:-0}
DEVICE=${DEVICE:-auto}
SLOPE_WD=${SLOPE_WD:-1e-3}
TRAIN_LIMIT=${TRAIN_LIMIT:-0}
STEPS=$(( EPOCHS * ( ( ${TRAIN_LIMIT/#0/50000} + 127 ) / 128 ) ))
SLOPE_L1=${SLOPE_L1:-$(python3 -c "print(f'{0.7 / (0.05 * $STEPS):.3g}')")}
BN_L1=${BN_L1:-$(python3 -c "print(f'{1.0 / (0.05 * $STEPS):.3g}')")}
POINTS=${POINTS:-8}
mkdir -p "$OUT"
COMMON="--model resnet20 --data $DATA --opt sgd --nesterov --lr 0.1 --wd 5e-4 --schedule onecycle --batch 128 \
 --epochs $EPOCHS --device $DEVICE --threads $THREADS --force"
[ "$TRAIN_LIMIT" -gt 0 ] && COMMON="$COMMON --train-limit $TRAIN_LIMIT"

method_flags() {
  case $1 in
    implicit) echo "--act rrelu --slope-wd $SLOPE_WD" ;;
    slope-l1) echo "--act rrelu --slope-wd $SLOPE_WD --slope-l1 $SLOPE_L1" ;;
    slimming) echo "--act relu --bn-l1 $BN_L1" ;;
  esac
}
prune_by() { [ "$1" = slimming ] && echo bn-scale || echo slope; }

one() {
  local m=$1 s=$2 d=$OUT/$1-seed$2
  if [ ! -f "$d/model.rotor" ]; then
    # shellcheck disable=SC2046
    "$ROTOR" train $COMMON $(method_flags "$m") --seed "$s" --out "$d" > "$d.train.log" 2>&1
  fi
  "$ROTOR" prune --model-file "$d/model.rotor" --by "$(prune_by "$m")" --tolerance 0.01 --device "$DEVICE" \
    --threads "$THREADS" --out "$d/prune" --force > "$d.prune.log" 2>&1
  python3 - "$d/prune/prune.json" "$POINTS" > "$d/gammas.txt" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); n = int(sys.argv[2])
g = sorted({t["gamma"] for t in j["trials"]})
pick = sorted({g[round(i * (len(g) - 1) / max(n - 1, 1))] for i in range(n)}) if g else []
print("\n".join(repr(x) for x in [0.0] + pick))
PY
  : > "$d/sweep.csv"
  while read -r g; do
    "$ROTOR" prune --model-file "$d/model.rotor" --by "$(prune_by "$m")" --gamma "$g" --device "$DEVICE" \
      --threads "$THREADS" --out "$d/sweep-$g" --force > /dev/null 2>&1 || continue
    python3 - "$d/sweep-$g/prune.json" "$m" "$s" >> "$d/sweep.csv" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(f'{sys.argv[2]},{sys.argv[3]},{j["gamma"]:.6g},{j["scores_total"] - j["scores_pruned"]},'
      f'{j["flops_after"] / j["flops_before"]:.6f},{j["acc_pruned"]:.6f}')
PY
    rm -rf "$d/sweep-$g"
  done < "$d/gammas.txt"
}

for s in $SEEDS; do
  for m in implicit slope-l1 slimming; do
    one "$m" "$s" &
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  done
done
wait
echo "method,seed,gamma,units_kept,flops_kept,acc_pruned" > "$OUT/sweep.csv"
cat "$OUT"/*-seed*/sweep.csv >> "$OUT/sweep.csv"
python3 "$ROOT/bench/sparsity_plot.py" "$OUT" "ResNet-20, CIFAR-10"
