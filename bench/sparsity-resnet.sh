#!/usr/bin/env bash
# The ResNet half of the implicit-vs-explicit comparison (docs/results.md):
# ResNet-20 on the CIFAR-10 JPEG copy, per seed
#   implicit   RReLU, slope weight decay (--slope-wd $SLOPE_WD)
#   slope-l1   the same plus --slope-l1 $SLOPE_L1
#   slimming   ReLU with --bn-l1 $BN_L1, pruned --by bn-scale
# with the repository's SGD recipe, then rotor prune (gamma chosen on half of
# the test set, tolerance 0.01) and rotor report, whose gamma_curve.csv turns
# the automatic search into the sweep as bench/sparsity-compare.sh does for
# the FCNN: every trial is one point, the accuracy on the choosing half at
# that gamma and the FLOPs kept by the network that gamma builds (pruned by
# the run's criterion; the cost accounting of prune_model's network). Writes
# OUT/sweep.csv in the format of bench/sparsity-compare.sh (acc_pruned: the
# choosing half's accuracy; units_kept: prune.json's scores_total minus the
# trial's pruned), and the same summary and figure.
#
#   tar xzf ../shared/datasets/cifar10-jpg.tar.gz -C /tmp/c10
#   DATA=folder:/tmp/c10/cifar10-jpg bash bench/sparsity-resnet.sh [OUT]
#   env: ROTOR, SEEDS ("1 2"), EPOCHS (30), JOBS (1), THREADS (0 = all),
#        DEVICE (auto), SLOPE_WD (1e-3), SLOPE_L1, BN_L1, BUDGETS (the
#        summary's FLOPs columns, bench/sparsity_plot.py),
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
  "$ROTOR" report --model-file "$d/model.rotor" --out "$d/report" > "$d.report.log" 2>&1
  python3 - "$d/prune/prune.json" "$d/report/gamma_curve.csv" "$m" "$s" > "$d/sweep.csv" <<'PY'
import csv, json, sys
total = json.load(open(sys.argv[1]))["scores_total"]
for r in csv.DictReader(open(sys.argv[2])):
    print(f'{sys.argv[3]},{sys.argv[4]},{float(r["gamma"]):.6g},{total - round(float(r["pruned"]))},'
          f'{float(r["flops_kept"]):.6f},{float(r["accuracy"]):.6f}')
PY
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
