// Per-channel work over NCHW tensors, spread over many blocks: the
// geometry, Welford statistics and their merging.
//
// A channel of a (N, C, HW) tensor holds N*HW values in N strided planes.
// One block per channel is far too little parallelism (a 128x16x32x32
// activation has 16 channels of 131072 values), so kernels run on a grid of
// (chunk, channel): block (k, c) handles the k-th run of channel c's values,
// in units of V consecutive floats (V = 4 when HW % 4 == 0: 16-byte loads).
// Reductions write one partial per block to the workspace, [channel][chunk],
// and the consumer merges a channel's partials in chunk order, in double: the
// result does not depend on which block finished first.
#pragma once

#include "kernels/cuda/cuda_common.cuh"

namespace rotor::cuda::detail {

struct ChannelGeom {
  uint32_t c = 0;            // channels
  uint32_t hw = 1;           // values per (n, c) plane
  uint32_t per_channel = 0;  // values per channel: N * HW
  uint32_t units = 0;        // units of V values per channel: N * HW / V
  FastDiv plane_units;       // HW / V: units per plane
  uint32_t chunk_units = 0;  // units per block
  uint32_t chunks = 1;       // blocks per channel (grid.x)

  // First element of unit u of channel ch.
  template <int V>
  __device__ __forceinline__ uint32_t offset(uint32_t ch, uint32_t u) const {
    uint32_t n, i;
    plane_units.divmod(u, n, i);
    return (n * c + ch) * hw + i * V;
  }
  dim3 grid() const { return dim3(chunks, c); }
};

// Geometry for shape s with unit width v (1 or 4; 4 requires s.hw % 4 == 0).
// Aims at about four blocks per SM in total.
inline ChannelGeom channel_geom(Context& ctx, const ChannelShape& s, int v, const char* op) {
  ROTOR_CUDA_REQUIRE(s.numel() <= max_index, op, "the tensor has 2^31 or more elements (32-bit indexing)");
  ROTOR_CUDA_REQUIRE(s.c >= 1 && s.c <= 65535, op, "the channel count must be in [1, 65535]");
  ChannelGeom g;
  g.c = static_cast<uint32_t>(s.c);
  g.hw = static_cast<uint32_t>(s.hw);
  g.per_channel = static_cast<uint32_t>(s.n * s.hw);
  g.units = static_cast<uint32_t>(s.n * s.hw / v);
  g.plane_units = FastDiv(static_cast<uint32_t>(s.hw / v));
  const int64_t target_blocks = int64_t(sm_count(ctx)) * 4;
  int64_t chunks = (target_blocks + s.c - 1) / s.c;
  chunks = std::min<int64_t>(chunks, (int64_t(g.units) + block_threads - 1) / block_threads);
  chunks = std::max<int64_t>(chunks, 1);
  g.chunk_units = static_cast<uint32_t>(std::max<int64_t>(1, (int64_t(g.units) + chunks - 1) / chunks));
  g.chunks = static_cast<uint32_t>(std::max<int64_t>(1, (int64_t(g.units) + g.chunk_units - 1) / g.chunk_units));
  return g;
}

// 16-byte units when every plane and every pointer allows them.
inline int channel_vector_width(const ChannelShape& s, std::initializer_list<const void*> pointers) {
  if (s.hw % 4 != 0) return 1;
  for (const void* p : pointers)
    if (p && !aligned16(p)) return 1;
  return 4;
}

// Running (count, mean, sum of squared deviations): Welford within a
// thread, Chan et al.'s pairwise formula between threads and blocks.
template <class T>
struct Moments {
  T n, mean, m2;
};

template <class T>
__device__ __forceinline__ Moments<T> merge(const Moments<T>& a, const Moments<T>& b) {
  if (b.n == T(0)) return a;
  if (a.n == T(0)) return b;
  const T n = a.n + b.n, delta = b.mean - a.mean, fb = b.n / n;
  return {n, a.mean + delta * fb, a.m2 + b.m2 + delta * delta * a.n * fb};
}

// Adds one unit of V values to a thread's moments.
template <int V>
__device__ __forceinline__ void moments_add(Moments<float>& w, const float (&v)[V]) {
  if constexpr (V == 1) {
    w.n += 1.0f;
    const float d = v[0] - w.mean;
    w.mean += d / w.n;
    w.m2 += d * (v[0] - w.mean);
  } else {
    // The four values' own mean and deviations, then one Chan merge (one
    // division per four values instead of four).
    const float m = ((v[0] + v[1]) + (v[2] + v[3])) * 0.25f;
    const float d0 = v[0] - m, d1 = v[1] - m, d2 = v[2] - m, d3 = v[3] - m;
    w = merge(w, Moments<float>{4.0f, m, (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3)});
  }
}

template <class T>
__device__ __forceinline__ Moments<T> shfl_down(const Moments<T>& w, int offset) {
  return {__shfl_down_sync(full_mask, w.n, offset), __shfl_down_sync(full_mask, w.mean, offset),
          __shfl_down_sync(full_mask, w.m2, offset)};
}

// Tree merge over the warp; the result is valid in lane 0.
template <class T>
__device__ __forceinline__ Moments<T> warp_merge(Moments<T> w) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) w = merge(w, shfl_down(w, offset));
  return w;
}

// Merge over the block; valid in thread 0. All threads must call it.
__device__ __forceinline__ Moments<float> block_merge(Moments<float> w) {
  __shared__ Moments<float> smem[warps_per_block];
  w = warp_merge(w);
  if ((threadIdx.x & 31) == 0) smem[threadIdx.x >> 5] = w;
  __syncthreads();
  if (threadIdx.x == 0)
    for (int i = 1; i < warps_per_block; ++i) w = merge(w, smem[i]);
  return w;
}

// Merges chunk partials p[0..chunks) of one channel in double, in a fixed
// order. Called by the 32 threads of one warp; the result is valid in lane 0.
__device__ __forceinline__ Moments<double> merge_chunk_moments(const Moments<float>* p, uint32_t chunks) {
  Moments<double> w{0, 0, 0};
  for (uint32_t i = threadIdx.x & 31; i < chunks; i += 32) {
    const Moments<float> q = p[i];
    w = merge(w, Moments<double>{q.n, q.mean, q.m2});
  }
  return warp_merge(w);
}

// K sums per block, merged in double by one warp (valid in lane 0).
template <int K>
struct Sums {
  float s[K];
};

template <int K>
__device__ __forceinline__ void merge_chunk_sums(const Sums<K>* p, uint32_t chunks, double (&out)[K]) {
#pragma unroll
  for (int k = 0; k < K; ++k) out[k] = 0;
  for (uint32_t i = threadIdx.x & 31; i < chunks; i += 32)
#pragma unroll
    for (int k = 0; k < K; ++k) out[k] += p[i].s[k];
#pragma unroll
  for (int k = 0; k < K; ++k)
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) out[k] += __shfl_down_sync(full_mask, out[k], offset);
}

}  // namespace rotor::cuda::detail
