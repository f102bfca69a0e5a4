#!/usr/bin/env bash
# Self-test of check_resource_usage.py on crafted cuobjdump dumps (no CUDA
# needed): it passes kernels within the limits and fails, naming the kernel,
# on too many registers for the launch bound, on more than 48 KB of static
# shared memory and on a missing architecture.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
# expect EXIT-CODE PATTERN SMALL_REGS SMALL_SHARED BOUNDED_REGS [extra args]
expect() {
  local want=$1 pattern=$2
  sed -e "s/@SMALL_REGS@/$3/" -e "s/@SMALL_SHARED@/$4/" -e "s/@BOUNDED_REGS@/$5/" "$HERE/fixtures/usage.txt" > "$T/usage.txt"
  shift 5
  local rc=0
  python3 "$HERE/check_resource_usage.py" --from-dumps "$T/usage.txt" "$HERE/fixtures/elf.txt" "$@" > "$T/out" 2>&1 || rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -q -- "$pattern" "$T/out"; then
    echo "FAILED: expected exit $want and '$pattern', got exit $rc:"; cat "$T/out"; fails=$((fails + 1))
  fi
}
# bounded: 1024 threads on sm_90 (0x200 x 2): 64 registers fit exactly, 65 do not
expect 0 "every kernel within" 32 1024 64 --require-arch 75 --require-arch 90
expect 1 "sm_90 bounded(float\*): 73728 registers per block of 1024 threads" 32 1024 65
# small: no launch bound, taken at 256 threads: 255 registers fit, 256 exceed the per-thread cap
expect 0 "every kernel within" 255 1024 64
expect 1 "small(float\*): 256 registers per thread" 256 1024 64
expect 1 "small(float\*): 49153 bytes of static shared memory" 32 49153 64
expect 0 "every kernel within" 32 49152 64
expect 1 "no cubin for sm_80" 32 1024 64 --require-arch 80
if [ $fails -eq 0 ]; then echo "check_resource_usage self-test: 7 passed, 0 failed"; else echo "check_resource_usage self-test: $((7 - fails)) passed, $fails failed"; exit 1; fi
