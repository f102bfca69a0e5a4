// CUDA inverted dropout (kernels/dropout.h): the mask is dropout_keep(seed,
// i, p), the same host/device hash the CPU uses, so CPU and GPU drop the
// same elements and backward recomputes the mask instead of storing it.
// CPU twin: kernels/cpu/dropout.cpp; tests: tests/gpu/test_gpu_elementwise.cpp
// (both seed forms), and end to end in a graph step in
// tests/gpu/test_gpu_graph_step.cpp.
#include "kernels/cuda/elementwise_map.cuh"
#include "kernels/dropout.h"

namespace rotor::cuda {
namespace {

using namespace detail;

// The mask's seed: `seed`, or hash_u64(*step_seed, seed) when step_seed
// is set (a graph step's seed in device memory; `seed` is then the op's use
// count). Every thread hashes it again: one mix more per element, no sync.
struct MaskSeed {
  uint64_t seed;
  const uint64_t* step_seed;
  __device__ uint64_t get() const { return step_seed ? hash_u64(*step_seed, seed) : seed; }
};

struct DropoutForwardOp {
  const float* x;
  float* y;
  double p;
  MaskSeed seed;
  float scale;
  __device__ void operator()(uint32_t i) const {
    y[i] = dropout_keep(seed.get(), i, p) ? __fmul_rn(x[i], scale) : 0.0f;
  }
};

struct DropoutBackwardOp {
  const float* dy;
  float* dx;
  double p;
  MaskSeed seed;
  float scale;
  bool accumulate;
  __device__ void operator()(uint32_t i) const {
    const float g = dropout_keep(seed.get(), i, p) ? __fmul_rn(dy[i], scale) : 0.0f;
    dx[i] = accumulate ? __fadd_rn(dx[i], g) : g;
  }
};

void forward(Context& ctx, int64_t n, const float* x, double p, MaskSeed seed, float* y) {
  const float scale = static_cast<float>(1.0 / (1.0 - p));  // as the CPU computes it
  launch_map(ctx, n, DropoutForwardOp{x, y, p, seed, scale}, "dropout_forward");
}

void backward(Context& ctx, int64_t n, const float* dy, double p, MaskSeed seed, float* dx, GradMode mode) {
  if (!dx) return;
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  launch_map(ctx, n, DropoutBackwardOp{dy, dx, p, seed, scale, mode == GradMode::accumulate}, "dropout_backward");
}

}  // namespace

void dropout_forward(Context& ctx, int64_t n, const float* x, double p, uint64_t seed, float* y) {
  forward(ctx, n, x, p, MaskSeed{seed, nullptr}, y);
}

void dropout_backward(Context& ctx, int64_t n, const float* dy, double p, uint64_t seed, float* dx, GradMode mode) {
  backward(ctx, n, dy, p, MaskSeed{seed, nullptr}, dx, mode);
}

void dropout_forward_step_seed(Context& ctx, int64_t n, const float* x, double p, const uint64_t* step_seed_dev,
                               uint64_t use, float* y) {
  forward(ctx, n, x, p, MaskSeed{use, step_seed_dev}, y);
}

void dropout_backward_step_seed(Context& ctx, int64_t n, const float* dy, double p, const uint64_t* step_seed_dev,
                                uint64_t use, float* dx, GradMode mode) {
  backward(ctx, n, dy, p, MaskSeed{use, step_seed_dev}, dx, mode);
}

}  // namespace rotor::cuda
