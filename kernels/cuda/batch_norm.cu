// CUDA batch norm (kernels/batch_norm.h): the ACT = false instances of
// kernels/cuda/batch_norm_kernels.cuh, which says how the kernels work. The
// fused batch norm + RReLU is kernels/cuda/bn_rrelu.cu.
#include "kernels/batch_norm.h"
#include "kernels/cuda/batch_norm_kernels.cuh"

namespace rotor::cuda {

void batch_norm_forward_train(Context& ctx, const ChannelShape& s, const float* x, const float* gamma,
                              const float* beta, float* running_mean, float* running_var, double momentum, double eps,
                              float* y, float* save_mean, float* save_invstd) {
  detail::bn::forward_train<false>(ctx, s, x, nullptr, gamma, beta, nullptr, running_mean, running_var, momentum, eps,
                                   y, save_mean, save_invstd, "batch_norm_forward_train");
}

void batch_norm_forward_eval(Context& ctx, const ChannelShape& s, const float* x, const float* gamma, const float* beta,
                             const float* running_mean, const float* running_var, double eps, float* y) {
  detail::bn::forward_eval<false>(ctx, s, x, nullptr, gamma, beta, nullptr, running_mean, running_var, eps, y,
                                  "batch_norm_forward_eval");
}

void batch_norm_backward(Context& ctx, const ChannelShape& s, const float* x, const float* dy, const float* gamma,
                         const float* save_mean, const float* save_invstd, float* dx, GradMode mode, float* dgamma,
                         float* dbeta) {
  // beta only shapes z for the activation; plain batch norm never reads it.
  detail::bn::backward<false>(ctx, s, x, nullptr, dy, gamma, gamma, nullptr, save_mean, save_invstd, dx, mode, nullptr,
                              GradMode::assign, dgamma, dbeta, nullptr, "batch_norm_backward");
}

}  // namespace rotor::cuda
