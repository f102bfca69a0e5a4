# shellcheck shell=bash disable=SC2034  # STATUS, ORDER, BUILD_OK are read by the scripts that source this
# gpu-lib.sh: what the GPU scripts (gpu-check.sh, gpu-cifar.sh) share.
# Sourced, not run: the caller sets OUT_DIR (an existing folder) first.
#
# Design decision: no step aborts a script. Each step's status is recorded
# with `record`, and the caller prints a summary table LAST (the device tool
# returns the end of the output). Steps run under `run`/`run_to`, whose time
# limits are cut to what is left of HARD_S, so the summary is printed before
# the device tool's 10-minute limit even if a step hangs.
LOG=$OUT_DIR/log.txt
: > "$LOG"
T0=$(date +%s)
HARD_S=${GPU_CHECK_HARD_S:-560}
BUILD=${GPU_BUILD_DIR:-build-gpu}
# CUDA architectures to build for: 90 for H100/H200 (75 for an RTX 2080 Ti).
GPU_ARCH=${GPU_ARCH:-90}
JOBS=${JOBS:-16}
# A GPU test binary that finds no usable GPU fails instead of reporting
# "skipped" (tests/gpu/require_gpu.h): on the device machine that is an error.
export ROTOR_REQUIRE_GPU=1
declare -A STATUS
ORDER=()

log() { echo "$@" | tee -a "$LOG"; }
elapsed() { echo $(( $(date +%s) - T0 )); }
record() { STATUS[$1]=$2; ORDER+=("$1"); log "== $1: $2 ($(elapsed) s elapsed)"; }
# limit WANTED_S: the time limit a step gets (0: no time left for it).
limit() {
  local left=$(( HARD_S - $(elapsed) ))
  if [ "$left" -lt 20 ]; then echo 0; elif [ "$left" -lt "$1" ]; then echo "$left"; else echo "$1"; fi
}
# run NAME TIMEOUT_S CMD...: runs CMD with a time limit, output to the log;
# returns its status (124: timed out, 125: no time left to start it).
run() {
  local name=$1 secs
  secs=$(limit "$2")
  shift 2
  if [ "$secs" = 0 ]; then
    log "== $name: not started (time budget spent)"
    return 125
  fi
  log "== $name (limit $secs s): $*"
  timeout "$secs" "$@" >> "$LOG" 2>&1
  local rc=$?
  [ $rc -eq 124 ] && log "== $name: timed out after $secs s"
  return $rc
}
# run_to FILE NAME TIMEOUT_S CMD...: as run, output to FILE (then appended to the log).
run_to() {
  local file=$1 name=$2 secs
  secs=$(limit "$3")
  shift 3
  : > "$file"
  if [ "$secs" = 0 ]; then
    log "== $name: not started (time budget spent)"
    return 125
  fi
  log "== $name (limit $secs s): $*"
  timeout "$secs" "$@" > "$file" 2>&1
  local rc=$?
  cat "$file" >> "$LOG"
  [ $rc -eq 124 ] && log "== $name: timed out after $secs s"
  return $rc
}
describe_rc() { case $1 in 0) echo ok ;; 124) echo "TIMED OUT" ;; 125) echo "skipped (time budget)" ;; *) echo "FAILED (rc $1)" ;; esac; }


# A number from the last line of a metrics.jsonl: metric FILE KEY.
metric() { tail -1 "$1" | sed -nE "s/.*\"$2\": ?([0-9.eE+-]+).*/\1/p"; }

# Unpacks the Debian packages carried in .gpu-debs/ (see docs/gpu.md) and
# points ROTOR_GOLDEN_DIR at .data/golden when it is there.
unpack_deps() {
  if [ -d .gpu-debs ] && ls .gpu-debs/*.deb > /dev/null 2>&1; then
    # shellcheck disable=SC1090
    if source <(bash .gpu-debs/unpack-debs.sh .gpu-debs /opt/deps 2>> "$LOG"); then
      record deps "unpacked .gpu-debs"
    else
      record deps "FAILED to unpack .gpu-debs"
    fi
  else
    record deps "no .gpu-debs (using system packages)"
  fi
  if [ -z "${ROTOR_GOLDEN_DIR:-}" ] && [ -f .data/golden/index.json ]; then export ROTOR_GOLDEN_DIR=$PWD/.data/golden; fi
}

# Configures and builds a Release build for $GPU_ARCH in $BUILD; sets BUILD_OK.
build_rotor() {
  B0=$(date +%s)
  if run configure 120 cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CUDA_ARCHITECTURES=$GPU_ARCH" &&
    run build 330 cmake --build "$BUILD" -j "$JOBS"; then
    BUILD_OK=1
    record build "ok in $(( $(date +%s) - B0 )) s (CUDA architectures $GPU_ARCH)"
  else
    BUILD_OK=0
    record build "FAILED after $(( $(date +%s) - B0 )) s (see log.txt)"
  fi
}
