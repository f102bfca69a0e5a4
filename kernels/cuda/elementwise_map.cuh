// launch_map(ctx, n, op): calls op(i) for every i in [0, n) on the
// context's stream, with a grid-stride loop of 256-thread blocks. `op` is a
// small struct of pointers and scalars with a __device__ operator()(uint32_t),
// passed by value as the kernel parameter.
//
// Scalar accesses are coalesced across the warp; for the memory-bound
// elementwise ops of a training step this reaches most of the bandwidth
// that 16-byte accesses would (measure with bench_cuda copy before
// vectorising).
#pragma once

#include "kernels/cuda/cuda_common.cuh"

namespace rotor::cuda::detail {

template <class Op>
__global__ void __launch_bounds__(block_threads) map_kernel(uint32_t n, Op op) {
  const uint32_t stride = gridDim.x * block_threads;
  for (uint32_t i = blockIdx.x * block_threads + threadIdx.x; i < n; i += stride) op(i);
}

template <class Op>
void launch_map(Context& ctx, int64_t n, const Op& op, const char* name) {
  if (n <= 0) return;
  ROTOR_CUDA_REQUIRE(n <= max_index, name, "the tensor has 2^31 or more elements (32-bit indexing)");
  map_kernel<<<grid_for(ctx, n), block_threads, 0, stream_of(ctx)>>>(static_cast<uint32_t>(n), op);
  ROTOR_CUDA_CHECK_LAUNCH();
}

}  // namespace rotor::cuda::detail
