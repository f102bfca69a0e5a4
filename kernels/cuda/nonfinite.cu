// CUDA count of non-finite values (kernels/nonfinite.h).
//
// A grid-stride loop counts per thread, cub::BlockReduce adds a block's
// counts and thread 0 adds them to the device int64 with one integer atomic
// (exact: the order does not matter). The count is plumbing, so CUB does
// the block reduction (cub_include.cuh).
#include <cfloat>

#include "kernels/cuda/cub_include.cuh"
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/nonfinite.h"

namespace rotor::cuda {
namespace {

using namespace detail;

__global__ void __launch_bounds__(block_threads)
    count_nonfinite_kernel(const float* __restrict__ x, uint32_t n, unsigned long long* __restrict__ count) {
  using BlockSum = cub::BlockReduce<unsigned, block_threads>;
  __shared__ typename BlockSum::TempStorage temp;
  unsigned bad = 0;
  // n < 2^31 and the stride is far below 2^31: i never wraps.
  for (uint32_t i = blockIdx.x * block_threads + threadIdx.x; i < n; i += gridDim.x * block_threads)
    bad += !(fabsf(x[i]) <= FLT_MAX);  // NaN compares false, +-inf exceeds FLT_MAX
  const unsigned total = BlockSum(temp).Sum(bad);  // valid in thread 0 only
  if (threadIdx.x == 0 && total > 0) atomicAdd(count, static_cast<unsigned long long>(total));
}

}  // namespace

void count_nonfinite(Context& ctx, int64_t n, const float* x, int64_t* count) {
  ROTOR_CUDA_REQUIRE(n >= 0 && n <= max_index, "count_nonfinite", "the tensor must have fewer than 2^31 values");
  if (n == 0) return;
  static_assert(sizeof(unsigned long long) == sizeof(int64_t));
  count_nonfinite_kernel<<<grid_for(ctx, n), block_threads, 0, stream_of(ctx)>>>(
      x, static_cast<uint32_t>(n), reinterpret_cast<unsigned long long*>(count));
  ROTOR_CUDA_CHECK_LAUNCH();
}

}  // namespace rotor::cuda
