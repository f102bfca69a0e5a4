// Global average pooling: y (N, C) = mean of x (N, C, HW) over HW.
//   backward: dx[n, c, :] = dy[n, c] / HW   [mode]
#pragma once

#include "kernels/shapes.h"

namespace rotor {
class Context;

namespace cpu {
template <class T> void global_avg_pool_forward(Context& ctx, const ChannelShape& s, const T* x, T* y);
template <class T>
void global_avg_pool_backward(Context& ctx, const ChannelShape& s, const T* dy, T* dx, GradMode mode);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void global_avg_pool_forward(Context& ctx, const ChannelShape& s, const float* x, float* y);
void global_avg_pool_backward(Context& ctx, const ChannelShape& s, const float* dy, float* dx, GradMode mode);
}  // namespace cuda
#endif

}  // namespace rotor
