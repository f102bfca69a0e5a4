// CUDA batch norm + residual add + ReLU/RReLU (kernels/bn_add_act.h; the CPU
// twin is kernels/cpu/bn_add_act.cpp): the ACT = ADD = true instances of
// kernels/cuda/batch_norm_kernels.cuh, which says how the kernels work.
// Forward: two launches (statistics; apply reading x and r once, writing y).
// Backward: two launches, each reading x, r and dy once; the first also
// writes dr into the residual's gradient target. Replaces batch_norm (2
// launches), add (1) and rrelu (forward 1) and their backwards (2 + 2 copies
// + 1). Run with: build/tests/gpu/rotor_gpu_tests "[bn_add_act]"; timed by
// bench_cuda bn_add_act (fused and unfused variants).
#include "kernels/bn_add_act.h"
#include "kernels/cuda/batch_norm_kernels.cuh"

namespace rotor::cuda {

void bn_add_act_forward_train(Context& ctx, const ChannelShape& s, const float* x, const float* r, const float* gamma,
                              const float* beta, const float* slope, float* running_mean, float* running_var,
                              double momentum, double eps, float* y, float* save_mean, float* save_invstd) {
  detail::bn::forward_train<true, true>(ctx, s, x, r, gamma, beta, slope, running_mean, running_var, momentum, eps, y,
                                        save_mean, save_invstd, "bn_add_act_forward_train");
}

void bn_add_act_forward_eval(Context& ctx, const ChannelShape& s, const float* x, const float* r, const float* gamma,
                             const float* beta, const float* slope, const float* running_mean,
                             const float* running_var, double eps, float* y) {
  detail::bn::forward_eval<true, true>(ctx, s, x, r, gamma, beta, slope, running_mean, running_var, eps, y,
                                       "bn_add_act_forward_eval");
}

void bn_add_act_backward(Context& ctx, const ChannelShape& s, const float* x, const float* r, const float* dy,
                         const float* gamma, const float* beta, const float* slope, const float* save_mean,
                         const float* save_invstd, float* dx, GradMode dx_mode, float* dr, GradMode dr_mode,
                         float* dgamma, float* dbeta, float* dslope) {
  detail::bn::backward<true, true>(ctx, s, x, r, dy, gamma, beta, slope, save_mean, save_invstd, dx, dx_mode, dr,
                                   dr_mode, dgamma, dbeta, dslope, "bn_add_act_backward");
}

}  // namespace rotor::cuda
