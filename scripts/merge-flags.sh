# merge_flags DEFAULTS... -- GIVEN...: prints (one word a line) the GIVEN
# flags, then each DEFAULT flag (with its value) that GIVEN does not name,
# so that a caller's flags override a script's defaults instead of making
# rotor stop with "--X is given twice". Flags are --name, --name value or
# --name=value; a word after a flag that does not start with -- is its value.
# Sourced by scripts/demo.sh and scripts/method.sh; tested by
# tests/scripts/test_merge_flags.sh.
merge_flags() {
  local -a defaults=() given=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do defaults+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  given=("$@")
  local -A named=()
  local word
  for word in "${given[@]}"; do
    if [[ "$word" == --* ]]; then word="${word#--}"; named["${word%%=*}"]=1; fi
  done
  for word in "${given[@]}"; do printf '%s\n' "$word"; done
  local i=0 name keep=0
  while [[ $i -lt ${#defaults[@]} ]]; do
    word="${defaults[$i]}"
    if [[ "$word" == --* ]]; then
      name="${word#--}"; name="${name%%=*}"
      keep=1; [[ -n "${named[$name]:-}" ]] && keep=0
    fi
    [[ $keep -eq 1 ]] && printf '%s\n' "$word"
    i=$((i + 1))
  done
}
