// CUDA channel subsets of NCHW tensors (kernels/channel_select.h), for
// physically pruned residual networks: gather, its backward, add_into.
//
// Every kernel maps over its OUTPUT, so each element is written by exactly
// one thread (no atomics, no separate zeroing). The two kernels that map
// over the full channel range need the inverse of `index` (which subset
// position feeds channel c, or -1); the CPU builds it on the host, but the
// index lives on the device here and reading it back would synchronise, so
// a one-block kernel builds it in the workspace first.
#include "kernels/channel_select.h"
#include "kernels/cuda/elementwise_map.cuh"

namespace rotor::cuda {
namespace {

using namespace detail;

// source (C) = -1, then source[index[k]] = k (indices are distinct).
__global__ void __launch_bounds__(block_threads)
    inverse_index_kernel(const int32_t* __restrict__ index, uint32_t k, uint32_t c, int32_t* __restrict__ source) {
  for (uint32_t i = threadIdx.x; i < c; i += block_threads) source[i] = -1;
  __syncthreads();
  for (uint32_t i = threadIdx.x; i < k; i += block_threads) source[index[i]] = static_cast<int32_t>(i);
}

// y (N, K, HW) = x[:, index[k], :]
struct GatherOp {
  const float* x;
  const int32_t* index;
  float* y;
  FastDiv hw, k;
  uint32_t c;
  __device__ void operator()(uint32_t i) const {
    uint32_t p, r, n, j;
    hw.divmod(i, p, r);
    k.divmod(p, n, j);
    y[i] = x[(n * c + static_cast<uint32_t>(index[j])) * hw.divisor + r];
  }
};

// dx (N, C, HW) = dy[:, source[c], :] where a subset position feeds c, else 0.
struct GatherBackwardOp {
  const float* dy;
  const int32_t* source;
  float* dx;
  FastDiv hw, c;
  uint32_t k;
  bool accumulate;
  __device__ void operator()(uint32_t i) const {
    uint32_t p, r, n, ch;
    hw.divmod(i, p, r);
    c.divmod(p, n, ch);
    const int32_t j = source[ch];
    const float g = j < 0 ? 0.0f : dy[(n * k + static_cast<uint32_t>(j)) * hw.divisor + r];
    dx[i] = accumulate ? __fadd_rn(dx[i], g) : g;
  }
};

// y (N, C, HW) = base + part[:, source[c], :] where a subset position feeds c.
struct AddIntoOp {
  const float* base;
  const float* part;
  const int32_t* source;
  float* y;
  FastDiv hw, c;
  uint32_t k;
  __device__ void operator()(uint32_t i) const {
    uint32_t p, r, n, ch;
    hw.divmod(i, p, r);
    c.divmod(p, n, ch);
    const int32_t j = source[ch];
    y[i] = j < 0 ? base[i] : __fadd_rn(base[i], part[(n * k + static_cast<uint32_t>(j)) * hw.divisor + r]);
  }
};

void check(const ChannelSubset& s, const char* op) {
  ROTOR_CUDA_REQUIRE(s.n * s.c * s.hw <= max_index && s.k >= 0 && s.k <= s.c && s.hw >= 1, op,
                     "tensors must have fewer than 2^31 values and at most C selected channels");
}

// The inverse of index in the workspace: (C) int32.
const int32_t* inverse_index(Context& ctx, const ChannelSubset& s, const int32_t* index) {
  int32_t* source = workspace_as<int32_t>(ctx, static_cast<size_t>(s.c));
  inverse_index_kernel<<<1, block_threads, 0, stream_of(ctx)>>>(index, static_cast<uint32_t>(s.k),
                                                                static_cast<uint32_t>(s.c), source);
  ROTOR_CUDA_CHECK_LAUNCH();
  return source;
}

}  // namespace

void channel_gather(Context& ctx, const ChannelSubset& s, const float* x, const int32_t* index, float* y) {
  check(s, "channel_gather");
  if (s.n * s.k == 0) return;
  launch_map(ctx, s.n * s.k * s.hw,
             GatherOp{x, index, y, FastDiv(static_cast<uint32_t>(s.hw)), FastDiv(static_cast<uint32_t>(s.k)),
                      static_cast<uint32_t>(s.c)},
             "channel_gather");
}

void channel_gather_backward(Context& ctx, const ChannelSubset& s, const float* dy, const int32_t* index, float* dx,
                             GradMode mode) {
  check(s, "channel_gather_backward");
  if (!dx || s.n * s.c == 0) return;
  const int32_t* source = inverse_index(ctx, s, index);
  launch_map(ctx, s.n * s.c * s.hw,
             GatherBackwardOp{dy, source, dx, FastDiv(static_cast<uint32_t>(s.hw)), FastDiv(static_cast<uint32_t>(s.c)),
                              static_cast<uint32_t>(s.k), mode == GradMode::accumulate},
             "channel_gather_backward");
}

void channel_add_into(Context& ctx, const ChannelSubset& s, const float* base, const float* part,
                      const int32_t* index, float* y) {
  check(s, "channel_add_into");
  if (s.n * s.c == 0) return;
  const int32_t* source = inverse_index(ctx, s, index);
  launch_map(ctx, s.n * s.c * s.hw,
             AddIntoOp{base, part, source, y, FastDiv(static_cast<uint32_t>(s.hw)), FastDiv(static_cast<uint32_t>(s.c)),
                       static_cast<uint32_t>(s.k)},
             "channel_add_into");
}

}  // namespace rotor::cuda
