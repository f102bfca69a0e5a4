// Fused batch norm + rotated ReLU: y = b[c] * max(0, BN(x)), the unit
// conv -> BN -> RReLU of the method. With slope == nullptr it is BN + ReLU
// (b = 1, no slope gradient), so ReLU networks get the same fusion.
//
//   forward_train  as batch_norm_forward_train, then the activation
//   forward_eval   with the running statistics
//   backward       of forward_train, from x and dy alone (z = BN(x) is
//                  recomputed): dx [mode]; dgamma, dbeta, dslope accumulate;
//                  one pass over (x, dy) for the per-channel reductions
//                  (dslope = sum dy*max(0,z), dbeta = sum dz, dgamma =
//                  sum dz*xhat with dz = dy*b*[z>0]), a second writes dx.
//                  Any gradient pointer may be nullptr.
#pragma once

#include "kernels/shapes.h"

namespace rotor {
class Context;

namespace cpu {
template <class T>
void bn_rrelu_forward_train(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                            const T* slope, T* running_mean, T* running_var, double momentum, double eps, T* y,
                            T* save_mean, T* save_invstd);
template <class T>
void bn_rrelu_forward_eval(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                           const T* slope, const T* running_mean, const T* running_var, double eps, T* y);
template <class T>
void bn_rrelu_backward(Context& ctx, const ChannelShape& s, const T* x, const T* dy, const T* gamma, const T* beta,
                       const T* slope, const T* save_mean, const T* save_invstd, T* dx, GradMode mode, T* dgamma,
                       T* dbeta, T* dslope);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void bn_rrelu_forward_train(Context& ctx, const ChannelShape& s, const float* x, const float* gamma,
                            const float* beta, const float* slope, float* running_mean, float* running_var,
                            double momentum, double eps, float* y, float* save_mean, float* save_invstd);
void bn_rrelu_forward_eval(Context& ctx, const ChannelShape& s, const float* x, const float* gamma,
                           const float* beta, const float* slope, const float* running_mean,
                           const float* running_var, double eps, float* y);
void bn_rrelu_backward(Context& ctx, const ChannelShape& s, const float* x, const float* dy, const float* gamma,
                       const float* beta, const float* slope, const float* save_mean, const float* save_invstd,
                       float* dx, GradMode mode, float* dgamma, float* dbeta, float* dslope);
}  // namespace cuda
#endif

}  // namespace rotor
