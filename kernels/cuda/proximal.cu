// CUDA soft thresholding (kernels/proximal.h).
//
// Design decision: one subtraction, a comparison and a sign copy, exactly
// as the CPU twin computes them, so both agree bit for bit (values at or
// under the threshold become +0 on both sides).
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/elementwise_map.cuh"
#include "kernels/proximal.h"

namespace rotor::cuda {
namespace {

using namespace detail;

struct SoftThresholdOp {
  float threshold;
  float* x;
  __device__ void operator()(uint32_t i) const {
    const float v = x[i];
    const float shrunk = __fsub_rn(fabsf(v), threshold);
    x[i] = shrunk > 0.0f ? copysignf(shrunk, v) : 0.0f;
  }
};

}  // namespace

void soft_threshold(Context& ctx, int64_t n, float threshold, float* x) {
  launch_map(ctx, n, SoftThresholdOp{threshold, x}, "soft_threshold");
}

}  // namespace rotor::cuda
