// conv2d: cross-correlation with weights (C_out, C_in, KH, KW), no bias,
// zero padding, one stride for both axes (PyTorch's convention).
//
//   forward          y  (N, C_out, Ho, Wo) = conv(x (N, C_in, H, W), w)
//   backward_data    dx (N, C_in, H, W)    = conv_transpose(dy, w)   [mode]
//   backward_weight  dw (C_out, C_in, KH, KW) += correlate(x, dy)
//
// The CPU reference is im2col + GEMM, one image per thread; cuda:: twins
// take the same arguments with float only.
#pragma once

#include "kernels/shapes.h"

namespace rotor {
class Context;

namespace cpu {
template <class T> void conv2d_forward(Context& ctx, const ConvShape& s, const T* x, const T* w, T* y);
template <class T>
void conv2d_backward_data(Context& ctx, const ConvShape& s, const T* dy, const T* w, T* dx, GradMode mode);
template <class T> void conv2d_backward_weight(Context& ctx, const ConvShape& s, const T* x, const T* dy, T* dw);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void conv2d_forward(Context& ctx, const ConvShape& s, const float* x, const float* w, float* y);
void conv2d_backward_data(Context& ctx, const ConvShape& s, const float* dy, const float* w, float* dx,
                          GradMode mode);
void conv2d_backward_weight(Context& ctx, const ConvShape& s, const float* x, const float* dy, float* dw);
}  // namespace cuda
#endif

}  // namespace rotor
