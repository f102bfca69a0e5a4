// CUDA fused batch norm + RReLU (kernels/bn_rrelu.h), the conv -> BN ->
// RReLU unit of the method: the ACT = true instances of
// kernels/cuda/batch_norm_kernels.cuh, which says how the kernels work.
// With a null slope it is BN + ReLU. Run with:
// build/tests/gpu/rotor_gpu_tests "[bn]"; timed by bench_cuda bn_rrelu.
#include "kernels/bn_rrelu.h"
#include "kernels/cuda/batch_norm_kernels.cuh"

namespace rotor::cuda {

void bn_rrelu_forward_train(Context& ctx, const ChannelShape& s, const float* x, const float* gamma, const float* beta,
                            const float* slope, float* running_mean, float* running_var, double momentum, double eps,
                            float* y, float* save_mean, float* save_invstd) {
  detail::bn::forward_train<true>(ctx, s, x, nullptr, gamma, beta, slope, running_mean, running_var, momentum, eps, y,
                                  save_mean, save_invstd, "bn_rrelu_forward_train");
}

void bn_rrelu_forward_eval(Context& ctx, const ChannelShape& s, const float* x, const float* gamma, const float* beta,
                           const float* slope, const float* running_mean, const float* running_var, double eps,
                           float* y) {
  detail::bn::forward_eval<true>(ctx, s, x, nullptr, gamma, beta, slope, running_mean, running_var, eps, y,
                                 "bn_rrelu_forward_eval");
}

void bn_rrelu_backward(Context& ctx, const ChannelShape& s, const float* x, const float* dy, const float* gamma,
                       const float* beta, const float* slope, const float* save_mean, const float* save_invstd,
                       float* dx, GradMode mode, float* dgamma, float* dbeta, float* dslope) {
  detail::bn::backward<true>(ctx, s, x, nullptr, dy, gamma, beta, slope, save_mean, save_invstd, dx, mode, nullptr,
                             GradMode::assign, dgamma, dbeta, dslope, "bn_rrelu_backward");
}

}  // namespace rotor::cuda
