#!/usr/bin/env bash
# scripts/merge-flags.sh: a caller's flags replace a script's defaults.
set -euo pipefail
source "$(dirname "$0")/../../scripts/merge-flags.sh"
fail=0
expect() {  # expect "WANTED WORDS" DEFAULTS... -- GIVEN...
  local want="$1"; shift
  local got
  got="$(merge_flags "$@" | tr '\n' ' ')"
  got="${got% }"
  if [[ "$got" != "$want" ]]; then echo "FAIL: merge_flags $*"; echo "  want: $want"; echo "  got:  $got"; fail=1; fi
}
expect "--epochs 3 --model fcnn --force" --model fcnn --epochs 15 --force -- --epochs 3
expect "--epochs=3 --model fcnn" --model fcnn --epochs 15 -- --epochs=3
expect "--device cpu --force --model fcnn --epochs 15" --model fcnn --epochs 15 -- --device cpu --force
expect "--model fcnn --epochs 15" --model fcnn --epochs 15 --
expect "--force --out runs/x --epochs 15" --force --out runs/demo --epochs 15 -- --force --out runs/x
expect "--out my dir --epochs 15" --out runs/demo --epochs 15 -- --out "my dir"
[[ $fail -eq 0 ]] && echo "merge_flags: all cases pass"
exit $fail
