// CUDA soft thresholding (kernels/proximal.h).
//
// Design decision: one subtraction, a comparison and a sign copy, exactly
// as the CPU twin computes them, so both agree bit for bit (values at or
// under the threshold become +0 on both sides). With threshold_dev (a step
// replayed from a CUDA graph, where arguments are frozen at capture) the
// threshold is read from device memory instead.
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/elementwise_map.cuh"
#include "kernels/proximal.h"

namespace rotor::cuda {
namespace {

using namespace detail;

struct SoftThresholdOp {
  float threshold;
  float* x;
  const float* threshold_dev;
  __device__ void operator()(uint32_t i) const {
    const float v = x[i];
    const float threshold = threshold_dev ? *threshold_dev : this->threshold;
    const float shrunk = __fsub_rn(fabsf(v), threshold);
    x[i] = shrunk > 0.0f ? copysignf(shrunk, v) : 0.0f;
  }
};

}  // namespace

void soft_threshold(Context& ctx, int64_t n, float threshold, float* x) {
  launch_map(ctx, n, SoftThresholdOp{threshold, x, nullptr}, "soft_threshold");
}

void soft_threshold_reading(Context& ctx, int64_t n, const float* threshold_dev, float* x) {
  launch_map(ctx, n, SoftThresholdOp{0.0f, x, threshold_dev}, "soft_threshold");
}

}  // namespace rotor::cuda
