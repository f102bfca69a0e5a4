// Fully connected layer, PyTorch's convention: weights (out, in).
//
//   forward          y (N, out) = x (N, in) W^T + bias      (bias may be nullptr)
//   backward_data    dx (N, in) = dy W                       [mode]
//   backward_weight  dw += dy^T x; dbias += sum_n dy         (dw, dbias may be nullptr)
#pragma once

#include <cstdint>

#include "kernels/shapes.h"

namespace rotor {
class Context;

struct LinearShape {
  int64_t n = 0, in = 0, out = 0;
};

namespace cpu {
template <class T>
void linear_forward(Context& ctx, const LinearShape& s, const T* x, const T* w, const T* bias, T* y);
template <class T>
void linear_backward_data(Context& ctx, const LinearShape& s, const T* dy, const T* w, T* dx, GradMode mode);
template <class T>
void linear_backward_weight(Context& ctx, const LinearShape& s, const T* x, const T* dy, T* dw, T* dbias);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void linear_forward(Context& ctx, const LinearShape& s, const float* x, const float* w, const float* bias,
                    float* y);
void linear_backward_data(Context& ctx, const LinearShape& s, const float* dy, const float* w, float* dx,
                          GradMode mode);
void linear_backward_weight(Context& ctx, const LinearShape& s, const float* x, const float* dy, float* dw,
                            float* dbias);
}  // namespace cuda
#endif

}  // namespace rotor
