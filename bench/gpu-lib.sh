# shellcheck shell=bash disable=SC2034  # STATUS, ORDER, BUILD_OK, BIN_* are read by the scripts that source this
# gpu-lib.sh: what the GPU scripts (gpu-check.sh, gpu-cifar.sh) share.
# Sourced, not run: the caller sets OUT_DIR (an existing folder) and
# SUMMARY_TITLE first, and may define summary_extra (more summary lines).
#
# Design decision: no step aborts a script, and the device tool may kill the
# whole command at its own limit, so summary.txt in OUT_DIR is rewritten
# after every step (and names the step in progress before each one starts):
# whatever happens, the latest summary comes back. Steps run under
# `run`/`run_to`, whose time limits are cut to what is left of HARD_S (the
# script's own budget, well inside the device call's timeout_s).
LOG=$OUT_DIR/log.txt
: > "$LOG"
T0=$(date +%s)
# 520 s of a 590 s device call: a step may overrun its limit by KILL_S, and
# the end (the last summary, the cleanup) needs a few seconds; the rest is
# margin, since a call cut off by the tool loses the step in progress.
HARD_S=${GPU_CHECK_HARD_S:-520}
# A step gets SIGTERM at its limit, then SIGKILL this many seconds later.
KILL_S=10
BUILD=${GPU_BUILD_DIR:-build-gpu}
PREBUILT=${GPU_PREBUILT_DIR:-.gpu-build}
JOBS=${JOBS:-$(nproc)}
# The binaries the windows run (the fallback build makes only these).
GPU_TARGETS=(rotor_cli bench_cuda bench_pruned_forward rotor_gpu_tests rotor_gpu_golden_tests)
# A GPU test binary that finds no usable GPU fails instead of reporting
# "skipped" (tests/gpu/require_gpu.h): on the device machine that is an error.
export ROTOR_REQUIRE_GPU=1
if ! command -v nvcc > /dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
# cudart and cuBLAS of the toolkit, for binaries built elsewhere.
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$d" ] && export LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
done
declare -A STATUS
ORDER=()
RUNNING=""
GPU_NAME=""

log() { echo "$@" | tee -a "$LOG"; }
elapsed() { echo $(( $(date +%s) - T0 )); }

# Rewrites OUT_DIR/summary.txt from the steps recorded so far.
write_summary() {
  {
    echo "================ $SUMMARY_TITLE ($(elapsed) s of $HARD_S, ${GPU_NAME:-unknown GPU}) ================"
    local k
    for k in "${ORDER[@]}"; do printf "%-24s %s\n" "$k" "${STATUS[$k]}"; done
    [ -n "$RUNNING" ] && echo "running now: $RUNNING (if this line is in the returned summary, the call was cut off in this step)"
    declare -F summary_extra > /dev/null && summary_extra
  } > "$OUT_DIR/summary.txt.tmp" 2>&1
  mv "$OUT_DIR/summary.txt.tmp" "$OUT_DIR/summary.txt"
}
record() {
  [ -n "${STATUS[$1]+set}" ] || ORDER+=("$1")
  STATUS[$1]=$2
  RUNNING=""
  log "== $1: $2 ($(elapsed) s elapsed)"
  write_summary
}

# limit WANTED_S: the time limit a step gets (0: no time left for it).
limit() {
  local left=$(( HARD_S - $(elapsed) - KILL_S ))
  if [ "$left" -lt 15 ]; then echo 0; elif [ "$left" -lt "$1" ]; then echo "$left"; else echo "$1"; fi
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
  RUNNING="$name (started at $(elapsed) s, limit $secs s)"
  write_summary
  timeout -k "$KILL_S" "$secs" "$@" >> "$LOG" 2>&1
  local rc=$?
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && log "== $name: timed out after $secs s"
  return $rc
}
# run_to FILE NAME TIMEOUT_S CMD...: as run, output to FILE (then appended to
# the log, at most its first and last 300 lines).
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
  RUNNING="$name (started at $(elapsed) s, limit $secs s)"
  write_summary
  timeout -k "$KILL_S" "$secs" "$@" > "$file" 2>&1
  local rc=$?
  append_to_log "$file"
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && log "== $name: timed out after $secs s"
  return $rc
}
append_to_log() {
  local n
  n=$(wc -l < "$1")
  if [ "$n" -le 600 ]; then
    cat "$1" >> "$LOG"
  else
    { head -300 "$1"; echo "... ($((n - 600)) lines left out) ..."; tail -300 "$1"; } >> "$LOG"
  fi
}
describe_rc() {
  case $1 in
    0) echo ok ;; 124 | 137) echo "TIMED OUT" ;; 125) echo "skipped (time budget)" ;; 127) echo "FAILED (rc 127: not found)" ;;
    *) if [ "$1" -gt 128 ]; then echo "CRASHED (rc $1: signal $(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128))))"; else echo "FAILED (rc $1)"; fi ;;
  esac
}
# The last line of FILE that matches the extended regex RE (empty if none).
last_match() { grep -E "$2" "$1" 2>/dev/null | tail -1; }
# The last line a failed step printed to the log (its error, usually).
last_output() { grep -v -e '^== ' -e '^$' "$LOG" | tail -1 | cut -c1-160; }
# Exit status of a script: 1 when a step failed, crashed, timed out or found errors.
final_status() {
  local k
  for k in "${ORDER[@]}"; do
    case ${STATUS[$k]} in *FAILED* | *CRASHED* | *"TIMED OUT"* | *"ERRORS FOUND"*) return 1 ;; esac
  done
  return 0
}

# A number from the last line of a metrics.jsonl: metric FILE KEY.
metric() { tail -1 "$1" | sed -nE "s/.*\"$2\": ?([0-9.eE+-]+).*/\1/p"; }

# One line on the machine: GPU, driver, the CUDA the driver supports, the
# toolkit (nvcc), CMake, cores. Sets GPU_NAME and GPU_CC (e.g. 90; empty
# without a GPU).
device_report() {
  local smi driver cuda_drv nvcc_v cmake_v
  if ! command -v nvidia-smi > /dev/null; then
    smi="nvidia-smi not found"
  else
    smi=$(nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader 2>&1 | head -1)
  fi
  if nvidia-smi -L > /dev/null 2>&1; then
    GPU_NAME=$(echo "$smi" | cut -d, -f1)
    GPU_CC=$(echo "$smi" | cut -d, -f2 | tr -d ' .')
    driver=$(echo "$smi" | cut -d, -f4 | tr -d ' ')
    cuda_drv=$(nvidia-smi 2>/dev/null | sed -nE 's/.*CUDA Version: *([0-9.]+).*/\1/p' | head -1)
  else
    GPU_NAME="no GPU"
    GPU_CC=""
    driver="none (nvidia-smi: $(echo "$smi" | head -c 80))"
  fi
  nvcc_v=$(nvcc --version 2>/dev/null | sed -nE 's/.*release ([0-9.]+).*/\1/p')
  cmake_v=$(cmake --version 2>/dev/null | sed -nE '1s/cmake version //p')
  record device "${GPU_NAME}${GPU_CC:+ (sm_$GPU_CC,$(echo "$smi" | cut -d, -f3))}; driver $driver${cuda_drv:+ (CUDA $cuda_drv)}; toolkit nvcc ${nvcc_v:-none}; cmake ${cmake_v:-none}; $(nproc) cores"
}

# Unpacks the Debian packages carried in .gpu-debs/ (see docs/gpu.md) and
# exports the environment it prints. Returns non-zero, with the reason
# recorded, when that fails.
unpack_deps() {
  if ! [ -d .gpu-debs ] || ! ls .gpu-debs/*.deb > /dev/null 2>&1; then
    record deps "no .gpu-debs (using system packages)"
    return 0
  fi
  local env_file err rc
  env_file=$(mktemp)
  err=$(mktemp)
  bash .gpu-debs/unpack-debs.sh .gpu-debs "${GPU_DEPS_PREFIX:-/opt/deps}" > "$env_file" 2> "$err"
  rc=$?
  cat "$err" >> "$LOG"
  if [ $rc -ne 0 ]; then
    record deps "FAILED to unpack .gpu-debs (rc $rc): $(tail -1 "$err")"
    return 1
  fi
  # shellcheck disable=SC1090
  if ! source "$env_file"; then
    record deps "FAILED: the environment from unpack-debs.sh does not load"
    return 1
  fi
  record deps "unpacked $(ls .gpu-debs/*.deb | wc -l) packages of .gpu-debs into ${GPU_DEPS_PREFIX:-/opt/deps}"
}

golden_env() {
  if [ -z "${ROTOR_GOLDEN_DIR:-}" ] && [ -f .data/golden/index.json ]; then export ROTOR_GOLDEN_DIR=$PWD/.data/golden; fi
}

set_binaries() {
  local dir=$1
  BIN_ROTOR=$dir/rotor BIN_BENCH_CUDA=$dir/bench_cuda BIN_PRUNED=$dir/bench_pruned_forward
  BIN_GPU_TESTS=$dir/rotor_gpu_tests BIN_GOLDEN=$dir/rotor_gpu_golden_tests
}

# Configures and builds, in $BUILD, for the GPU's architecture (GPU_ARCH,
# default the one nvidia-smi reports, else 90) only the binaries the
# windows run. Returns non-zero on failure.
build_here() {
  local arch=${GPU_ARCH:-${GPU_CC:-90}} B0
  B0=$(date +%s)
  unpack_deps || return 1
  if run configure 120 cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CUDA_ARCHITECTURES=$arch" &&
    run build 330 cmake --build "$BUILD" -j "$JOBS" --target "${GPU_TARGETS[@]}"; then
    BUILT_HERE="built here in $(( $(date +%s) - B0 )) s (CUDA architecture $arch)"
    return 0
  fi
  BUILT_HERE="build here FAILED after $(( $(date +%s) - B0 )) s (see log.txt)"
  return 1
}

# Does the carried binary start and see the GPU? Prints the problem, if any.
probe_binaries() {
  local dir=$1 out rc
  out=$(LD_LIBRARY_PATH=$dir/../lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} timeout 30 "$dir/rotor" --help 2>&1)
  rc=$?
  [ $rc -eq 0 ] || { echo "rotor --help fails (rc $rc): $(echo "$out" | grep -v '^$' | tail -1)"; return 1; }
  # No test matches the tag: this only initialises CUDA (require_gpu.h).
  out=$(LD_LIBRARY_PATH=$dir/../lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} timeout 60 "$dir/rotor_gpu_tests" "[no-such-tag]" 2>&1)
  rc=$?
  if echo "$out" | grep -q "ROTOR_REQUIRE_GPU=1 but"; then
    echo "no usable GPU for it: $(echo "$out" | grep "ROTOR_REQUIRE_GPU=1 but" | sed 's/ROTOR_REQUIRE_GPU=1 but //; s/: failed$//')"
    return 2
  fi
  [ $rc -eq 0 ] || { echo "rotor_gpu_tests fails to start (rc $rc): $(echo "$out" | tail -1)"; return 1; }
}

# Chooses the binaries: the carried prebuilt ones (scripts/gpu-prebuild.sh:
# $PREBUILT/rotor-gpu.tar.gz and BUILD-INFO) when they are this tree's and
# work here, else a build on this machine. Sets BUILD_OK and BIN_*; records
# step `binaries`.
setup_binaries() {
  golden_env
  local why="" info=$PREBUILT/BUILD-INFO have want problem prc unpacked=${GPU_UNPACK_DIR:-/tmp/rotor-gpu-bin}
  if [ -f "$info" ] && [ -f "$PREBUILT/rotor-gpu.tar.gz" ]; then
    have=$(sed -n 's/^source_hash //p' "$info")
    want=$(bash scripts/gpu-source-hash.sh)
    if [ "$have" != "$want" ]; then
      why="carried $PREBUILT is stale (built from sources $have, these are $want)"
    elif ! { rm -rf "$unpacked" && mkdir -p "$unpacked" && tar xzf "$PREBUILT/rotor-gpu.tar.gz" -C "$unpacked" 2>> "$LOG"; }; then
      why="carried $PREBUILT/rotor-gpu.tar.gz does not unpack into $unpacked"
    else
      problem=$(probe_binaries "$unpacked/bin")
      prc=$?
      if [ $prc -eq 0 ] || { [ $prc -eq 2 ] && [ -z "$GPU_CC" ]; }; then
        # (Without any GPU, building here would not help: use it, the GPU steps say why they fail.)
        set_binaries "$unpacked/bin"
        export LD_LIBRARY_PATH=$unpacked/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
        BUILD_OK=1
        record binaries "carried $PREBUILT ($(sed -n 's/^commit //p' "$info"), CUDA $(sed -n 's/^nvcc //p' "$info"), archs $(sed -n 's/^cuda_archs //p' "$info"))${problem:+; $problem}"
        return 0
      fi
      why="carried $PREBUILT does not work here: $problem"
    fi
  else
    why="no carried $PREBUILT/rotor-gpu.tar.gz (scripts/gpu-prebuild.sh)"
  fi
  log "== $why: building here"
  if ! command -v nvcc > /dev/null || ! command -v cmake > /dev/null; then
    BUILD_OK=0
    record binaries "FAILED: $why, and no nvcc/cmake to build here"
    return 1
  fi
  if build_here; then
    BUILD_OK=1
    BIN_ROTOR=$PWD/$BUILD/apps/rotor BIN_BENCH_CUDA=$PWD/$BUILD/bench/cuda/bench_cuda
    BIN_PRUNED=$PWD/$BUILD/bench/bench_pruned_forward
    BIN_GPU_TESTS=$PWD/$BUILD/tests/gpu/rotor_gpu_tests BIN_GOLDEN=$PWD/$BUILD/tests/gpu/rotor_gpu_golden_tests
    record binaries "$BUILT_HERE ($why)"
  else
    BUILD_OK=0
    record binaries "FAILED: $BUILT_HERE ($why)"
  fi
}

# Keeps OUT_DIR within what the device tool returns (8 files of at most
# 16 MiB): cuts the middle out of log.txt and names any file still too big.
check_out_dir() {
  local max=$((15 * 1024 * 1024)) f size n
  size=$(stat -c %s "$LOG")
  if [ "$size" -gt "$max" ]; then
    { head -c $((4 * 1024 * 1024)) "$LOG"; printf '\n... (log cut to fit the 16 MiB a returned file may have) ...\n'
      tail -c $((10 * 1024 * 1024)) "$LOG"; } > "$LOG.cut" && mv "$LOG.cut" "$LOG"
  fi
  for f in "$OUT_DIR"/*; do
    [ "$(stat -c %s "$f")" -gt $((16 * 1024 * 1024)) ] && record out_files "WARNING: $(basename "$f") is over 16 MiB and will not come back"
  done
  n=$(find "$OUT_DIR" -maxdepth 1 -type f | wc -l)
  [ "$n" -gt 8 ] && record out_files "WARNING: $n files in OUT_DIR, the device tool returns 8"
  return 0
}
