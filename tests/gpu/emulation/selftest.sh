#!/usr/bin/env bash
# The emulation's own checks, on selftest.cu: the CUB model (emu_cub.h)
# gives the block sum in thread 0 and NaN elsewhere, and emu::launch aborts
# on a grid or on shared memory over the sm_75/sm_90 limits, naming the
# kernel. run.sh runs it first; usage: selftest.sh BUILD_DIR [extra g++ flags]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
R=$(cd "$HERE/../../.." && pwd)
D=$1
shift
mkdir -p "$D"
python3 "$HERE/transform.py" "$HERE/selftest.cu" > "$D/selftest.cpp" &&
  g++ -std=c++20 -O1 -DROTOR_HAVE_CUDA=1 -I"$R" -I/usr/local/cuda/include -Wno-attributes "$@" \
    -include "$HERE/cuda_emu.h" "$D/selftest.cpp" -o "$D/selftest" -lpthread || { echo "emulation self-test: did not compile"; exit 1; }
fails=0
# expect ARG EXIT-CODE PATTERN
expect() {
  local out rc=0
  out=$("$D/selftest" "$1" 2>&1) || rc=$?
  if [ "$rc" -ne "$2" ] || ! grep -q -- "$3" <<< "$out"; then
    echo "emulation self-test FAILED: selftest $1: expected exit $2 and '$3', got exit $rc: $out"
    fails=$((fails + 1))
  fi
}
expect 0 0 "thread 0: 2016"
expect 1 0 "thread 1: nan"
expect -1 134 "launch of big_shared_kernel: static + dynamic shared memory per block is 52000"
expect -2 134 "launch of sum_kernel: gridDim.y is 70000"
expect -3 134 "launch of big_shared_kernel: static + dynamic shared memory per block is 53024"
cases=5
# Only the fibers detect a deadlock (threads would hang, as a GPU does).
if [[ " $* " == *" -DEMU_FIBERS "* ]]; then
  expect -4 134 "launch of deadlock_kernel: deadlock: 64 threads wait at barriers that can never complete"
  cases=6
fi
[ $fails -eq 0 ] && echo "emulation self-test: $cases passed, 0 failed ($*)" || exit 1
