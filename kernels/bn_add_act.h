// The tail of a ResNet basic block in one op: batch norm, residual add and
// ReLU or RReLU, y = b[c] * max(0, BN(x) + r) (b = 1 when slope == nullptr).
// Twins: kernels/cpu/bn_add_act.cpp and kernels/cuda/bn_add_act.cu.
//
//   forward_train  batch statistics as batch_norm_forward_train (saved and
//                  running statistics too), then y from x and r
//   forward_eval   with the running statistics
//   backward       of forward_train, from x, r and dy (z = BN(x) + r is
//                  recomputed, nothing else is saved): with
//                  dz = dy * b * [z > 0], dr = dz [dr_mode] written straight
//                  into the residual's gradient (no copy through an add),
//                  dx [dx_mode] as batch norm's backward of dz; dgamma =
//                  sum dz*xhat, dbeta = sum dz, dslope = sum dy*max(0, z)
//                  accumulate. Any gradient pointer may be nullptr.
//
// The CPU twin rounds as the unfused batch_norm -> add -> rrelu sequence
// does (the batch-norm output is rounded to T before r is added), so its
// forward gives the same bits; see docs/kernels.md for the backward.
#pragma once

#include "kernels/shapes.h"

namespace rotor {
class Context;

namespace cpu {
template <class T>
void bn_add_act_forward_train(Context& ctx, const ChannelShape& s, const T* x, const T* r, const T* gamma,
                              const T* beta, const T* slope, T* running_mean, T* running_var, double momentum,
                              double eps, T* y, T* save_mean, T* save_invstd);
template <class T>
void bn_add_act_forward_eval(Context& ctx, const ChannelShape& s, const T* x, const T* r, const T* gamma,
                             const T* beta, const T* slope, const T* running_mean, const T* running_var, double eps,
                             T* y);
template <class T>
void bn_add_act_backward(Context& ctx, const ChannelShape& s, const T* x, const T* r, const T* dy, const T* gamma,
                         const T* beta, const T* slope, const T* save_mean, const T* save_invstd, T* dx,
                         GradMode dx_mode, T* dr, GradMode dr_mode, T* dgamma, T* dbeta, T* dslope);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void bn_add_act_forward_train(Context& ctx, const ChannelShape& s, const float* x, const float* r, const float* gamma,
                              const float* beta, const float* slope, float* running_mean, float* running_var,
                              double momentum, double eps, float* y, float* save_mean, float* save_invstd);
void bn_add_act_forward_eval(Context& ctx, const ChannelShape& s, const float* x, const float* r, const float* gamma,
                             const float* beta, const float* slope, const float* running_mean,
                             const float* running_var, double eps, float* y);
void bn_add_act_backward(Context& ctx, const ChannelShape& s, const float* x, const float* r, const float* dy,
                         const float* gamma, const float* beta, const float* slope, const float* save_mean,
                         const float* save_invstd, float* dx, GradMode dx_mode, float* dr, GradMode dr_mode,
                         float* dgamma, float* dbeta, float* dslope);
}  // namespace cuda
#endif

}  // namespace rotor
