// CUDA global average pooling (kernels/pool.h).
//
// Forward: one warp per (n, c) plane sums its HW values (a fixed shuffle
// tree, so the result is deterministic) and writes the mean. Backward: an
// elementwise map, dx[n, c, :] = dy[n, c] / HW.
#include "kernels/cuda/elementwise_map.cuh"
#include "kernels/pool.h"

namespace rotor::cuda {
namespace {

using namespace detail;

__global__ void __launch_bounds__(block_threads)
    pool_forward_kernel(const float* __restrict__ x, uint32_t planes, uint32_t hw, float* __restrict__ y) {
  const uint32_t plane = blockIdx.x * warps_per_block + (threadIdx.x >> 5), lane = threadIdx.x & 31;
  if (plane >= planes) return;  // whole warps leave together: the shuffles below see full warps
  const float* p = x + plane * hw;
  float sum = 0.0f;
  for (uint32_t i = lane; i < hw; i += 32) sum += p[i];
  sum = warp_sum(sum);
  if (lane == 0) y[plane] = static_cast<float>(static_cast<double>(sum) / hw);
}

struct PoolBackwardOp {
  const float* dy;
  float* dx;
  FastDiv hw;
  bool accumulate;
  __device__ void operator()(uint32_t i) const {
    const float g = __fdiv_rn(dy[hw.div(i)], static_cast<float>(hw.divisor));
    dx[i] = accumulate ? __fadd_rn(dx[i], g) : g;
  }
};

}  // namespace

void global_avg_pool_forward(Context& ctx, const ChannelShape& s, const float* x, float* y) {
  if (s.numel() == 0) return;
  ROTOR_CUDA_REQUIRE(s.numel() <= max_index, "global_avg_pool_forward", "the tensor has 2^31 or more elements");
  const uint32_t planes = static_cast<uint32_t>(s.n * s.c);
  const unsigned blocks = (planes + warps_per_block - 1) / warps_per_block;
  pool_forward_kernel<<<blocks, block_threads, 0, stream_of(ctx)>>>(x, planes, static_cast<uint32_t>(s.hw), y);
  ROTOR_CUDA_CHECK_LAUNCH();
}

void global_avg_pool_backward(Context& ctx, const ChannelShape& s, const float* dy, float* dx, GradMode mode) {
  if (!dx) return;
  launch_map(ctx, s.numel(), PoolBackwardOp{dy, dx, FastDiv(static_cast<uint32_t>(s.hw)), mode == GradMode::accumulate},
             "global_avg_pool_backward");
}

}  // namespace rotor::cuda
