// Batch normalisation over (N, HW) per channel, PyTorch's convention:
// normalise with the biased batch variance, update running_var with the
// unbiased one, r = (1 - momentum) * r + momentum * batch, eps inside the sqrt.
//
//   forward_train  y = gamma * (x - mean) * invstd + beta; writes save_mean,
//                  save_invstd (C) for backward; updates running stats
//   forward_eval   the same with the running statistics
//   backward       of forward_train: dx [mode]; dgamma, dbeta accumulate;
//                  any gradient pointer may be nullptr (not wanted)
#pragma once

#include "kernels/shapes.h"

namespace rotor {
class Context;

namespace cpu {
template <class T>
void batch_norm_forward_train(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                              T* running_mean, T* running_var, double momentum, double eps, T* y, T* save_mean,
                              T* save_invstd);
template <class T>
void batch_norm_forward_eval(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                             const T* running_mean, const T* running_var, double eps, T* y);
template <class T>
void batch_norm_backward(Context& ctx, const ChannelShape& s, const T* x, const T* dy, const T* gamma,
                         const T* save_mean, const T* save_invstd, T* dx, GradMode mode, T* dgamma, T* dbeta);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void batch_norm_forward_train(Context& ctx, const ChannelShape& s, const float* x, const float* gamma,
                              const float* beta, float* running_mean, float* running_var, double momentum,
                              double eps, float* y, float* save_mean, float* save_invstd);
void batch_norm_forward_eval(Context& ctx, const ChannelShape& s, const float* x, const float* gamma,
                             const float* beta, const float* running_mean, const float* running_var, double eps,
                             float* y);
void batch_norm_backward(Context& ctx, const ChannelShape& s, const float* x, const float* dy, const float* gamma,
                         const float* save_mean, const float* save_invstd, float* dx, GradMode mode, float* dgamma,
                         float* dbeta);
}  // namespace cuda
#endif

}  // namespace rotor
