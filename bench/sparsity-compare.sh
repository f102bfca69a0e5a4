#!/usr/bin/env bash
# Implicit vs explicit sparsity on FCNN-500 / Fashion-MNIST (docs/results.md,
# "Implicit vs explicit sparsity"): trains, per seed,
#   implicit   RReLU, slope weight decay only (scripts/demo.sh's recipe)
#   slope-l1   the same plus --slope-l1 $SLOPE_L1 (proximal L1 on the slopes)
#   slimming   ReLU with --bn-l1 $BN_L1 (network slimming), pruned --by bn-scale
# then runs rotor prune (gamma chosen on a stratified half of the test set,
# tolerance 0.01) and takes its gamma search: every trial gives the accuracy
# on the choosing half at one gamma, and the FLOPs of the network that gamma
# leaves come from the cost accounting (rotor info --model fcnn-K). Writes
# OUT/sweep.csv (method, seed, gamma, units kept, FLOPs kept, accuracy),
# OUT/summary.csv and OUT/sparsity.svg (+ .png with rsvg-convert).
#
# TRAIN/TEST > 0 take the first TRAIN training and TEST test images of the
# Debian Fashion-MNIST files (an MNIST-format copy under OUT/data) for a
# machine too slow for the full set; TRAIN=0 uses all of it.
#
#   bash bench/sparsity-compare.sh [OUT]     (default runs/sparsity)
#   env: ROTOR (build/apps/rotor), SEEDS ("1 2"), EPOCHS (15), JOBS (3),
#        THREADS (1), SLOPE_L1 (0.2), BN_L1 (0.3), TRAIN (0), TEST (0)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROTOR=${ROTOR:-$ROOT/build/apps/rotor}
OUT=${1:-runs/sparsity}
SEEDS=${SEEDS:-1 2}
EPOCHS=${EPOCHS:-15}
JOBS=${JOBS:-3}
THREADS=${THREADS:-1}
SLOPE_L1=${SLOPE_L1:-0.2}
BN_L1=${BN_L1:-0.3}
TRAIN=${TRAIN:-0}
TEST=${TEST:-0}
FMNIST=${FMNIST:-/usr/share/datasets/fashion-mnist}
mkdir -p "$OUT"
DATA=fashion-mnist
if [ "$TRAIN" -gt 0 ]; then
  mkdir -p "$OUT/data"
  python3 - "$FMNIST" "$OUT/data" "$TRAIN" "$TEST" <<'PY'
import gzip, struct, sys
src, dst, ntrain, ntest = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for part, n in (("train", ntrain), ("t10k", ntest)):
    for kind, item in (("images-idx3", 784), ("labels-idx1", 1)):
        raw = gzip.open(f"{src}/{part}-{kind}-ubyte.gz").read()
        ndim = raw[3]
        dims = list(struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim]))
        dims[0] = min(n, dims[0])
        body = raw[4 + 4 * ndim:4 + 4 * ndim + dims[0] * item]
        open(f"{dst}/{part}-{kind}-ubyte", "wb").write(raw[:4] + struct.pack(">" + "I" * ndim, *dims) + body)
PY
  DATA=mnist:$OUT/data
fi
COMMON="--model fcnn --data $DATA --opt adam --lr 1e-3 --wd 1e-4 --schedule cosine --batch 128 \
 --epochs $EPOCHS --device cpu --threads $THREADS --force"

method_flags() {
  case $1 in
    implicit) echo "--act rrelu --slope-wd 1e-2" ;;
    slope-l1) echo "--act rrelu --slope-wd 1e-2 --slope-l1 $SLOPE_L1" ;;
    slimming) echo "--act relu --bn-l1 $BN_L1" ;;
  esac
}
prune_by() { [ "$1" = slimming ] && echo bn-scale || echo slope; }

act_of() { [ "$1" = slimming ] && echo relu || echo rrelu; }

# One method and seed: train, prune (gamma chosen automatically), and turn
# its gamma trials into (FLOPs kept, accuracy) points.
one() {
  local m=$1 s=$2 d=$OUT/$1-seed$2
  if [ ! -f "$d/model.rotor" ]; then
    # shellcheck disable=SC2046
    "$ROTOR" train $COMMON $(method_flags "$m") --seed "$s" --out "$d" > "$d.train.log" 2>&1
  fi
  "$ROTOR" prune --model-file "$d/model.rotor" --by "$(prune_by "$m")" --tolerance 0.01 --threads "$THREADS" \
    --out "$d/prune" --force > "$d.prune.log" 2>&1
  local total
  total=$("$ROTOR" info --model fcnn --act "$(act_of "$m")" | awk '$1 == "total" {gsub(",", "", $3); print $3}')
  python3 - "$d/prune/prune.json" > "$d/kept.txt" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for t in j["trials"]:
    print(t["gamma"], 500 - t["pruned"], t["acc"])
PY
  : > "$d/sweep.csv"
  while read -r g kept acc; do
    local flops
    flops=$("$ROTOR" info --model "fcnn-$kept" --act "$(act_of "$m")" | awk '$1 == "total" {gsub(",", "", $3); print $3}')
    echo "$m,$s,$g,$kept,$(python3 -c "print(f'{$flops / $total:.6f}')"),$acc" >> "$d/sweep.csv"
  done < "$d/kept.txt"
}

pids=()
for s in $SEEDS; do
  for m in implicit slope-l1 slimming; do
    one "$m" "$s" &
    pids+=($!)
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  done
done
wait
echo "method,seed,gamma,units_kept,flops_kept,acc_pruned" > "$OUT/sweep.csv"
cat "$OUT"/*-seed*/sweep.csv >> "$OUT/sweep.csv"
python3 "$ROOT/bench/sparsity_plot.py" "$OUT"
