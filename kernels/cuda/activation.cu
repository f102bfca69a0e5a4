// CUDA ReLU and rotated ReLU (kernels/activation.h).
//
// relu runs as an elementwise map. rrelu runs on the (chunk, channel) grid of
// channel_reduce.cuh so each block reads its channel's slope once; its
// backward writes dx and one partial sum of dy * max(x, 0) per block in the
// same pass, and a one-warp-per-channel kernel adds the partials (in chunk
// order, double) to dslope. The gradient at x == 0 is 0, as on the CPU.
#include "kernels/activation.h"
#include "kernels/cuda/channel_reduce.cuh"
#include "kernels/cuda/elementwise_map.cuh"

namespace rotor::cuda {
namespace {

using namespace detail;

struct ReluForwardOp {
  const float* x;
  float* y;
  __device__ void operator()(uint32_t i) const { y[i] = x[i] > 0.0f ? x[i] : 0.0f; }
};

struct ReluBackwardOp {
  const float* x;
  const float* dy;
  float* dx;
  bool accumulate;
  __device__ void operator()(uint32_t i) const {
    const float g = x[i] > 0.0f ? dy[i] : 0.0f;
    dx[i] = accumulate ? __fadd_rn(dx[i], g) : g;
  }
};

template <int V>
__global__ void __launch_bounds__(block_threads)
    rrelu_forward_kernel(const float* __restrict__ x, const float* __restrict__ slope, ChannelGeom g,
                         float* __restrict__ y) {
  const uint32_t c = blockIdx.y;
  const float b = slope[c];
  const uint32_t begin = blockIdx.x * g.chunk_units, end = min(begin + g.chunk_units, g.units);
  for (uint32_t u = begin + threadIdx.x; u < end; u += block_threads) {
    const uint32_t o = g.offset<V>(c, u);
    float v[V];
    load_vec<V>(x + o, v);
#pragma unroll
    for (int e = 0; e < V; ++e) v[e] = v[e] > 0.0f ? __fmul_rn(b, v[e]) : 0.0f;
    store_vec<V>(y + o, v);
  }
}

template <int V>
__global__ void __launch_bounds__(block_threads)
    rrelu_backward_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                          const float* __restrict__ slope, ChannelGeom g, float* __restrict__ dx, bool accumulate,
                          Sums<1>* __restrict__ partial) {
  __shared__ float smem[warps_per_block];
  const uint32_t c = blockIdx.y;
  const float b = slope[c];
  const uint32_t begin = blockIdx.x * g.chunk_units, end = min(begin + g.chunk_units, g.units);
  float sum[1] = {0.0f};  // dy * max(x, 0)
  for (uint32_t u = begin + threadIdx.x; u < end; u += block_threads) {
    const uint32_t o = g.offset<V>(c, u);
    float xv[V], dv[V], out[V] = {};
    load_vec<V>(x + o, xv);
    load_vec<V>(dy + o, dv);
    if (dx && accumulate) load_vec_rw<V>(dx + o, out);
#pragma unroll
    for (int e = 0; e < V; ++e) {
      const bool on = xv[e] > 0.0f;
      if (on) sum[0] += dv[e] * xv[e];
      const float gx = on ? __fmul_rn(dv[e], b) : 0.0f;
      out[e] = accumulate ? __fadd_rn(out[e], gx) : gx;
    }
    if (dx) store_vec<V>(dx + o, out);
  }
  if (!partial) return;  // uniform over the grid
  block_sum<1>(sum, smem);
  if (threadIdx.x == 0) partial[c * g.chunks + blockIdx.x] = Sums<1>{{sum[0]}};
}

// One warp per channel: dslope[c] += the channel's partials, summed in order.
__global__ void rrelu_dslope_kernel(const Sums<1>* __restrict__ partial, uint32_t chunks, float* __restrict__ dslope) {
  double s[1];
  merge_chunk_sums<1>(partial + blockIdx.x * chunks, chunks, s);
  if (threadIdx.x == 0) dslope[blockIdx.x] += static_cast<float>(s[0]);
}

}  // namespace

void relu_forward(Context& ctx, int64_t n, const float* x, float* y) {
  launch_map(ctx, n, ReluForwardOp{x, y}, "relu_forward");
}

void relu_backward(Context& ctx, int64_t n, const float* x, const float* dy, float* dx, GradMode mode) {
  if (!dx) return;
  launch_map(ctx, n, ReluBackwardOp{x, dy, dx, mode == GradMode::accumulate}, "relu_backward");
}

void rrelu_forward(Context& ctx, const ChannelShape& s, const float* x, const float* slope, float* y) {
  if (s.numel() == 0) return;
  const int v = channel_vector_width(s, {x, y});
  const ChannelGeom g = channel_geom(ctx, s, v, "rrelu_forward");
  if (v == 4)
    rrelu_forward_kernel<4><<<g.grid(), block_threads, 0, stream_of(ctx)>>>(x, slope, g, y);
  else
    rrelu_forward_kernel<1><<<g.grid(), block_threads, 0, stream_of(ctx)>>>(x, slope, g, y);
  ROTOR_CUDA_CHECK_LAUNCH();
}

void rrelu_backward(Context& ctx, const ChannelShape& s, const float* x, const float* dy, const float* slope,
                    float* dx, GradMode mode, float* dslope) {
  if (s.numel() == 0 || (!dx && !dslope)) return;
  const int v = channel_vector_width(s, {x, dy, dx});
  const ChannelGeom g = channel_geom(ctx, s, v, "rrelu_backward");
  Sums<1>* partial = dslope ? workspace_as<Sums<1>>(ctx, size_t(g.c) * g.chunks) : nullptr;
  const bool acc = mode == GradMode::accumulate;
  const cudaStream_t st = stream_of(ctx);
  if (v == 4)
    rrelu_backward_kernel<4><<<g.grid(), block_threads, 0, st>>>(x, dy, slope, g, dx, acc, partial);
  else
    rrelu_backward_kernel<1><<<g.grid(), block_threads, 0, st>>>(x, dy, slope, g, dx, acc, partial);
  ROTOR_CUDA_CHECK_LAUNCH();
  if (dslope) {
    rrelu_dslope_kernel<<<g.c, 32, 0, st>>>(partial, g.chunks, dslope);
    ROTOR_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace rotor::cuda
