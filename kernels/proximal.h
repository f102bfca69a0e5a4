// Proximal step of an L1 penalty (soft thresholding), applied to parameters
// after the optimizer's update:
//
//   soft_threshold   x = sign(x) * max(|x| - threshold, 0)
//
// This is the proximal operator of threshold * |x|: values with
// |x| <= threshold land on exactly 0 (a subgradient step would make them
// oscillate around 0 and never reach it), the others move threshold closer
// to 0. The trainer uses it for --slope-l1 (RReLU slopes) and --bn-l1
// (batch-norm scales) with threshold = lr * lambda.
//
// Twins: kernels/cpu/proximal.cpp and kernels/cuda/proximal.cu.
#pragma once

#include <cstdint>

namespace rotor {
class Context;

namespace cpu {
template <class T> void soft_threshold(Context& ctx, int64_t n, T threshold, T* x);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void soft_threshold(Context& ctx, int64_t n, float threshold, float* x);
// The same for a step replayed from a CUDA graph: the threshold is the
// float at threshold_dev when the kernel runs.
void soft_threshold_reading(Context& ctx, int64_t n, const float* threshold_dev, float* x);
}  // namespace cuda
#endif

}  // namespace rotor
