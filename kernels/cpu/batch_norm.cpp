// CPU batch norm: channel ranges per thread, statistics in double.
#include "kernels/batch_norm.h"

#include <cmath>

#include "engine/context.h"
#include "kernels/cpu/channel_stats.h"

namespace rotor::cpu {

using detail::for_channel_ranges;
using detail::for_planes;

namespace {

// y = x * scale + shift over channels [c0, c1).
template <class T>
void apply(const ChannelShape& s, int64_t c0, int64_t c1, const T* x, const double* scale, const double* shift, T* y) {
  for_planes(s, c0, c1, [&](int64_t, int64_t c, int64_t base) {
    const double a = scale[c - c0], b = shift[c - c0];
    for (int64_t i = 0; i < s.hw; ++i) y[base + i] = static_cast<T>(x[base + i] * a + b);
  });
}

}  // namespace

template <class T>
void batch_norm_forward_train(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                              T* running_mean, T* running_var, double momentum, double eps, T* y, T* save_mean,
                              T* save_invstd) {
  for_channel_ranges(ctx, s, 4, [&](int64_t c0, int64_t c1, double* tmp) {
    double *scale, *shift;
    detail::train_affine(s, x, gamma, beta, running_mean, running_var, momentum, eps, save_mean, save_invstd, c0, c1,
                         tmp, &scale, &shift);
    apply(s, c0, c1, x, scale, shift, y);
  });
}

template <class T>
void batch_norm_forward_eval(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                             const T* running_mean, const T* running_var, double eps, T* y) {
  for_channel_ranges(ctx, s, 2, [&](int64_t c0, int64_t c1, double* tmp) {
    double *scale, *shift;
    detail::eval_affine(gamma, beta, running_mean, running_var, eps, c0, c1, tmp, &scale, &shift);
    apply(s, c0, c1, x, scale, shift, y);
  });
}

template <class T>
void batch_norm_backward(Context& ctx, const ChannelShape& s, const T* x, const T* dy, const T* gamma,
                         const T* save_mean, const T* save_invstd, T* dx, GradMode mode, T* dgamma, T* dbeta) {
  const double count = static_cast<double>(s.per_channel());
  for_channel_ranges(ctx, s, 2, [&](int64_t c0, int64_t c1, double* tmp) {
    double *sum_dy = tmp, *sum_dy_xhat = tmp + (c1 - c0);
    for_planes(s, c0, c1, [&](int64_t, int64_t c, int64_t base) {
      const double mean = save_mean[c], invstd = save_invstd[c];
      const auto sums = detail::plane_sums<2>(s.hw, [&](int64_t i) {
        const double g = dy[base + i];
        return std::array<double, 2>{g, g * (x[base + i] - mean) * invstd};
      });
      sum_dy[c - c0] += sums[0];
      sum_dy_xhat[c - c0] += sums[1];
    });
    for (int64_t c = c0; c < c1; ++c) {
      if (dgamma) dgamma[c] += static_cast<T>(sum_dy_xhat[c - c0]);
      if (dbeta) dbeta[c] += static_cast<T>(sum_dy[c - c0]);
    }
    if (!dx) return;
    // dx = gamma * invstd / M * (M * dy - sum dy - xhat * sum dy*xhat)
    for_planes(s, c0, c1, [&](int64_t, int64_t c, int64_t base) {
      const double mean = save_mean[c], invstd = save_invstd[c], k = gamma[c] * invstd / count;
      const double sdy = sum_dy[c - c0], sdx = sum_dy_xhat[c - c0];
      for (int64_t i = 0; i < s.hw; ++i) {
        const double xhat = (x[base + i] - mean) * invstd;
        const T g = static_cast<T>(k * (count * dy[base + i] - sdy - xhat * sdx));
        dx[base + i] = mode == GradMode::accumulate ? dx[base + i] + g : g;
      }
    });
  });
}

#define ROTOR_INSTANTIATE_BN(T)                                                                                \
  template void batch_norm_forward_train<T>(Context&, const ChannelShape&, const T*, const T*, const T*, T*, T*, \
                                            double, double, T*, T*, T*);                                        \
  template void batch_norm_forward_eval<T>(Context&, const ChannelShape&, const T*, const T*, const T*,         \
                                           const T*, const T*, double, T*);                                     \
  template void batch_norm_backward<T>(Context&, const ChannelShape&, const T*, const T*, const T*, const T*,   \
                                       const T*, T*, GradMode, T*, T*);
ROTOR_INSTANTIATE_BN(float)
ROTOR_INSTANTIATE_BN(double)

}  // namespace rotor::cpu
