// Elementwise helpers: the residual addition and gradient routing.
//
//   add_forward     y = a + b
//   copy_grad       dst = src [assign] or dst += src [accumulate]
//   fill            dst = value
//   scale           x *= alpha
//   axpy            y += alpha * x
#pragma once

#include <cstdint>

#include "kernels/shapes.h"

namespace rotor {
class Context;

namespace cpu {
template <class T> void add_forward(Context& ctx, int64_t n, const T* a, const T* b, T* y);
template <class T> void copy_grad(Context& ctx, int64_t n, const T* src, T* dst, GradMode mode);
template <class T> void fill(Context& ctx, int64_t n, T value, T* dst);
template <class T> void scale(Context& ctx, int64_t n, T alpha, T* x);
template <class T> void axpy(Context& ctx, int64_t n, T alpha, const T* x, T* y);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void add_forward(Context& ctx, int64_t n, const float* a, const float* b, float* y);
void copy_grad(Context& ctx, int64_t n, const float* src, float* dst, GradMode mode);
void fill(Context& ctx, int64_t n, float value, float* dst);
void scale(Context& ctx, int64_t n, float alpha, float* x);
void axpy(Context& ctx, int64_t n, float alpha, const float* x, float* y);
}  // namespace cuda
#endif

}  // namespace rotor
