// CUDA inverted dropout (kernels/dropout.h): the mask is dropout_keep(seed,
// i, p), the same host/device hash the CPU uses, so CPU and GPU drop the
// same elements and backward recomputes the mask instead of storing it.
#include "kernels/cuda/elementwise_map.cuh"
#include "kernels/dropout.h"

namespace rotor::cuda {
namespace {

using namespace detail;

struct DropoutForwardOp {
  const float* x;
  float* y;
  double p;
  uint64_t seed;
  float scale;
  __device__ void operator()(uint32_t i) const { y[i] = dropout_keep(seed, i, p) ? __fmul_rn(x[i], scale) : 0.0f; }
};

struct DropoutBackwardOp {
  const float* dy;
  float* dx;
  double p;
  uint64_t seed;
  float scale;
  bool accumulate;
  __device__ void operator()(uint32_t i) const {
    const float g = dropout_keep(seed, i, p) ? __fmul_rn(dy[i], scale) : 0.0f;
    dx[i] = accumulate ? __fadd_rn(dx[i], g) : g;
  }
};

}  // namespace

void dropout_forward(Context& ctx, int64_t n, const float* x, double p, uint64_t seed, float* y) {
  const float scale = static_cast<float>(1.0 / (1.0 - p));  // as the CPU computes it
  launch_map(ctx, n, DropoutForwardOp{x, y, p, seed, scale}, "dropout_forward");
}

void dropout_backward(Context& ctx, int64_t n, const float* dy, double p, uint64_t seed, float* dx, GradMode mode) {
  if (!dx) return;
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  launch_map(ctx, n, DropoutBackwardOp{dy, dx, p, seed, scale, mode == GradMode::accumulate}, "dropout_backward");
}

}  // namespace rotor::cuda
