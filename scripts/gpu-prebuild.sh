#!/usr/bin/env bash
# gpu-prebuild.sh: builds the binaries the GPU window runs HERE, on the
# development machine, so that the window spends its minutes on the GPU and
# not in nvcc.
#
#   bash scripts/gpu-prebuild.sh            # -> .gpu-build/ (git-ignored), carried by the device call
#
# Environment: GPU_ARCHS (default "75;90"), GPU_PREBUILD_DIR (the CMake build
# folder, default build-gpu-prebuild/), JOBS (default: the cores here).
#
# .gpu-build/ gets rotor-gpu.tar.gz, holding bin/ (stripped: rotor,
# bench_cuda, bench_pruned_forward, rotor_gpu_tests, rotor_gpu_golden_tests)
# and lib/libfmt.so.* (Debian ships no static libfmt, and the GPU machine
# has no fmt), and BUILD-INFO (the source hash of scripts/gpu-source-hash.sh,
# the CUDA version, the architectures). Compressed, because the five
# binaries (each with every kernel for both architectures) weigh ~28 MB and
# the device call carries 64 MiB in all, data included; gzip, because the
# GPU machine surely has it (xz would make it ~2 MB).
# zlib is linked statically; cudart and cuBLAS come from the device's CUDA
# toolkit, which must therefore have the same major version as this one
# (bench/gpu-check.sh tests that the binaries start and see the GPU, and
# builds there when they do not). The script fails if a binary needs any
# other library (checked with ldd).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${GPU_PREBUILD_DIR:-build-gpu-prebuild}
DEST=.gpu-build
ARCHS=${GPU_ARCHS:-75;90}
TARGETS=(rotor_cli bench_cuda bench_pruned_forward rotor_gpu_tests rotor_gpu_golden_tests)
BINS=(apps/rotor bench/cuda/bench_cuda bench/bench_pruned_forward tests/gpu/rotor_gpu_tests tests/gpu/rotor_gpu_golden_tests)
# Libraries a binary may need: glibc's, the C++ runtime, CUDA's from the
# device's toolkit or driver, and the fmt we carry.
ALLOWED='^(linux-vdso|/lib64/ld-linux-x86-64|ld-linux-x86-64|libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|libcudart|libcublas|libcublasLt|libcuda|libfmt)\.so'

if ! command -v nvcc > /dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
command -v nvcc > /dev/null || { echo "gpu-prebuild: nvcc not found (install the CUDA toolkit)" >&2; exit 1; }
LIBZ_A=$(gcc -print-file-name=libz.a)
[ -f "$LIBZ_A" ] || { echo "gpu-prebuild: no static zlib (libz.a; Debian: zlib1g-dev)" >&2; exit 1; }
launcher=()
if command -v ccache > /dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi

T0=$(date +%s)
cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DROTOR_WITH_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$ARCHS" \
  "-DZLIB_LIBRARY=$LIBZ_A" "${launcher[@]}"
cmake --build "$B" -j "${JOBS:-$(nproc)}" --target "${TARGETS[@]}"
T1=$(date +%s)

STAGE=$B/stage
rm -rf "$STAGE" "$DEST"
mkdir -p "$STAGE/bin" "$STAGE/lib" "$DEST"
for b in "${BINS[@]}"; do
  cp "$B/$b" "$STAGE/bin/"
  strip "$STAGE/bin/$(basename "$b")"
done
# The fmt shared library the binaries were linked against (its soname file).
fmt_so=$(ldd "$STAGE/bin/rotor" | awk '/libfmt\.so/ {print $3}')
[ -n "$fmt_so" ] && cp -L "$fmt_so" "$STAGE/lib/"

bad=0
for f in "$STAGE"/bin/*; do
  while read -r lib; do
    if ! [[ $lib =~ $ALLOWED ]]; then
      echo "gpu-prebuild: $f needs $lib, which the GPU machine may not have" >&2
      bad=1
    fi
  done < <(LD_LIBRARY_PATH=$STAGE/lib ldd "$f" | awk '{print $1}' | sed 's|.*/||')
done
[ $bad = 0 ] || exit 1

{
  echo "source_hash $(bash scripts/gpu-source-hash.sh)"
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((T1 - T0)) s"
  echo "cuda_archs $ARCHS"
  echo "nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  echo "needs $(LD_LIBRARY_PATH=$STAGE/lib ldd "$STAGE/bin/rotor" | awk '{print $1}' | grep -E 'cud|cublas|fmt' | sort | tr '\n' ' ')"
} > "$STAGE/BUILD-INFO"
cp "$STAGE/BUILD-INFO" "$DEST/"
tar czf "$DEST/rotor-gpu.tar.gz" -C "$STAGE" BUILD-INFO bin lib
echo
echo "gpu-prebuild: built in $((T1 - T0)) s; $(du -sb "$STAGE" | cut -f1) bytes:"
du -b "$STAGE"/bin/* "$STAGE"/lib/* | sort -n
echo "carried: $DEST, $(du -sb "$DEST" | cut -f1) bytes"
cat "$DEST/BUILD-INFO"
echo "ldd bin/rotor (LD_LIBRARY_PATH=lib):"
LD_LIBRARY_PATH=$STAGE/lib ldd "$STAGE/bin/rotor"
