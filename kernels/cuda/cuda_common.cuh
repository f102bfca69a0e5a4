// Helpers shared by the CUDA kernels (kernels/cuda/*.cu): the context's
// stream and workspace, grid sizing, fast integer division, vector loads and
// deterministic warp/block reductions.
//
// Design decision: every reduction in rotor's kernels is deterministic. A
// value is reduced in a fixed tree (shuffles, then shared memory in warp
// order), per-block partials go to the workspace and are merged in index
// order by a later kernel. No floating-point atomics anywhere, so a run
// repeats bit for bit.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "engine/context.h"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_state.h"
#include "kernels/shapes.h"

namespace rotor::cuda::detail {

constexpr int block_threads = 256;  // every kernel here uses 256-thread blocks
constexpr int warps_per_block = block_threads / 32;
constexpr unsigned full_mask = 0xffffffffu;

inline cudaStream_t stream_of(Context& ctx) { return ctx.cuda().stream; }
inline int sm_count(Context& ctx) { return ctx.cuda().prop.multiProcessorCount; }

// A typed view of the context workspace with room for `count` T's.
template <class T>
T* workspace_as(Context& ctx, size_t count) {
  return static_cast<T*>(cuda_workspace(ctx.cuda(), count * sizeof(T), *ctx.allocator(Device::cuda)));
}

// Blocks for a grid-stride loop over n items: enough to fill the device
// (16 blocks of 256 threads per SM), fewer when n is small.
inline unsigned grid_for(Context& ctx, int64_t n) {
  const int64_t wanted = (n + block_threads - 1) / block_threads;
  const int64_t cap = int64_t(sm_count(ctx)) * 16;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(wanted, cap)));
}

// Kernels index with 32-bit integers (half the registers and instructions
// of 64-bit ones); the wrappers check that every tensor fits.
constexpr int64_t max_index = (int64_t(1) << 31) - 1;

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// n / d and n % d for a divisor fixed at launch, by multiply-high and shift
// (Granlund-Montgomery); exact for n < 2^31. Built on the host.
struct FastDiv {
  uint32_t divisor = 1, mul = 0, shift = 0;
  FastDiv() = default;
  explicit FastDiv(uint32_t d) : divisor(d) {
    if (d <= 1) {
      divisor = 1;
      return;
    }
    uint32_t l = 0;
    while ((uint64_t(1) << l) < d) ++l;  // l = ceil(log2 d)
    const uint32_t p = 31 + l;
    mul = static_cast<uint32_t>(((uint64_t(1) << p) + d - 1) / d);
    shift = p - 32;
  }
  __device__ __forceinline__ uint32_t div(uint32_t n) const {
    return divisor == 1 ? n : (__umulhi(n, mul) >> shift);
  }
  __device__ __forceinline__ void divmod(uint32_t n, uint32_t& q, uint32_t& r) const {
    q = div(n);
    r = n - q * divisor;
  }
};

// V consecutive floats (V = 1 or 4; 4 needs 16-byte alignment).
template <int V>
__device__ __forceinline__ void load_vec(const float* __restrict__ p, float (&v)[V]) {
  if constexpr (V == 4) {
    const float4 t = __ldg(reinterpret_cast<const float4*>(p));
    v[0] = t.x;
    v[1] = t.y;
    v[2] = t.z;
    v[3] = t.w;
  } else {
    v[0] = __ldg(p);
  }
}

template <int V>
__device__ __forceinline__ void store_vec(float* __restrict__ p, const float (&v)[V]) {
  if constexpr (V == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
  } else {
    p[0] = v[0];
  }
}

// Reads the current value (for GradMode::accumulate); not __ldg: the kernel writes it.
template <int V>
__device__ __forceinline__ void load_vec_rw(const float* p, float (&v)[V]) {
  if constexpr (V == 4) {
    const float4 t = *reinterpret_cast<const float4*>(p);
    v[0] = t.x;
    v[1] = t.y;
    v[2] = t.z;
    v[3] = t.w;
  } else {
    v[0] = p[0];
  }
}

// Sum over the warp; every lane gets the same value (a butterfly: each
// pair adds the same two numbers, so all lanes round alike).
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(full_mask, v, offset);
  return v;
}

// Sums of K values over the block, in a fixed tree; the result is valid in
// thread 0. Must be called by all threads of the block. Uses `smem` of
// warps_per_block * K entries; syncs before returning, so smem can be reused.
template <int K, class T>
__device__ __forceinline__ void block_sum(T (&v)[K], T* smem) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int k = 0; k < K; ++k) v[k] = warp_sum(v[k]);
  if (lane == 0)
#pragma unroll
    for (int k = 0; k < K; ++k) smem[warp * K + k] = v[k];
  __syncthreads();
  if (threadIdx.x == 0) {
#pragma unroll
    for (int k = 0; k < K; ++k) {
      T s = smem[k];
      for (int w = 1; w < warps_per_block; ++w) s += smem[w * K + k];
      v[k] = s;
    }
  }
  __syncthreads();
}

}  // namespace rotor::cuda::detail
