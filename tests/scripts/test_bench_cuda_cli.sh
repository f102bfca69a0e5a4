#!/usr/bin/env bash
# bench_cuda's command line (bench/cuda/bench_cuda.cpp): a bad flag or value
# exits 2 with one line naming it, before any GPU is looked for, so this
# runs on machines without one.
#   test_bench_cuda_cli.sh BENCH_CUDA
set -uo pipefail
BIN=$1
fail=0
# expect STATUS PATTERN ARGS...: the exit status, and a line of stderr
# matching PATTERN (grep -E).
expect() {
  local want=$1 pattern=$2 err rc
  shift 2
  err=$("$BIN" "$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" != "$want" ] || ! grep -qE -- "$pattern" <<<"$err"; then
    echo "FAIL: bench_cuda $*: want exit $want and /$pattern/, got exit $rc: $err"
    fail=1
  fi
}
expect 2 "^bench_cuda: --precision: .*fp17" train_step --precision fp17
expect 2 "^bench_cuda: --precision needs a value" train_step --precision
expect 2 "--precision apply to train_step and memory .*not to conv2d_fwd" conv2d_fwd --precision fp16
expect 2 "^bench_cuda: unknown flag --precison" train_step --precison fp16
expect 2 "^bench_cuda: --batch 1: expected 2 to 65536" train_step --batch 1
expect 2 "^bench_cuda: --model: .*nonsense" train_step --model nonsense
expect 2 "^bench_cuda: --act: .*tanh" train_step --act tanh
expect 2 "conv2d_fwd has no variant 'fp8'" conv2d_fwd fp8
# A valid command line gets past the parser to the GPU check. Only checked
# without a GPU (exit 77): with one it would time a step, and timing belongs
# in bench/, not in a test.
"$BIN" copy --repeats 1 >/dev/null 2>&1
if [ $? -eq 77 ]; then
  expect 77 "^bench_cuda: .*(GPU|driver)" train_step --precision fp16 --model resnet20 --batch 4
  expect 77 "^bench_cuda: .*(GPU|driver)" memory --precision fp32 --model resnet8 --batch 2
fi
[ $fail -eq 0 ] && echo "bench_cuda command line: all cases pass"
exit $fail
