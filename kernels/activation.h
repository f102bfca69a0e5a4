// ReLU and the rotated ReLU (RReLU) with one slope per channel.
//
//   relu     y = max(0, x);             dx = dy * [x > 0]            [mode]
//   rrelu    y = b[c] * max(0, x);      dx = dy * b[c] * [x > 0]     [mode]
//                                       dslope[c] += sum dy * max(0, x)
// The gradient at x == 0 is 0 (PyTorch's convention). dx and dslope may be
// nullptr (kernels/shapes.h).
//
// A new activation goes here: a parameter-free elementwise one is declared
// like relu (n, x, y / n, x, dy, dx, mode), its twins go into
// kernels/cpu/activation.cpp and kernels/cuda/activation.cu
// (docs/adding-a-layer.md).
#pragma once

#include <cstdint>

#include "kernels/shapes.h"

namespace rotor {
class Context;

namespace cpu {
template <class T> void relu_forward(Context& ctx, int64_t n, const T* x, T* y);
template <class T> void relu_backward(Context& ctx, int64_t n, const T* x, const T* dy, T* dx, GradMode mode);
template <class T> void rrelu_forward(Context& ctx, const ChannelShape& s, const T* x, const T* slope, T* y);
template <class T>
void rrelu_backward(Context& ctx, const ChannelShape& s, const T* x, const T* dy, const T* slope, T* dx,
                    GradMode mode, T* dslope);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void relu_forward(Context& ctx, int64_t n, const float* x, float* y);
void relu_backward(Context& ctx, int64_t n, const float* x, const float* dy, float* dx, GradMode mode);
void rrelu_forward(Context& ctx, const ChannelShape& s, const float* x, const float* slope, float* y);
void rrelu_backward(Context& ctx, const ChannelShape& s, const float* x, const float* dy, const float* slope,
                    float* dx, GradMode mode, float* dslope);
}  // namespace cuda
#endif

}  // namespace rotor
