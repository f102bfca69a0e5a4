// CPU batch norm: one channel per task, statistics in double.
#include "kernels/batch_norm.h"

#include <cmath>

#include "engine/context.h"
#include "kernels/cpu/channel_stats.h"

namespace rotor::cpu {

template <class T>
void batch_norm_forward_train(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                              T* running_mean, T* running_var, double momentum, double eps, T* y, T* save_mean,
                              T* save_invstd) {
  ctx.pool().parallel_for(s.c, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      const detail::ChannelMoments m = detail::channel_moments(s, x, c);
      detail::store_train_stats(s, c, m, momentum, eps, running_mean, running_var, save_mean, save_invstd);
      const double scale = gamma[c] / std::sqrt(m.var_biased + eps);
      for (int64_t n = 0; n < s.n; ++n) {
        const int64_t base = (n * s.c + c) * s.hw;
        for (int64_t i = 0; i < s.hw; ++i) y[base + i] = static_cast<T>((x[base + i] - m.mean) * scale + beta[c]);
      }
    }
  });
}

template <class T>
void batch_norm_forward_eval(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                             const T* running_mean, const T* running_var, double eps, T* y) {
  ctx.pool().parallel_for(s.c, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      const double scale = gamma[c] / std::sqrt(static_cast<double>(running_var[c]) + eps);
      const double shift = beta[c] - running_mean[c] * scale;
      for (int64_t n = 0; n < s.n; ++n) {
        const int64_t base = (n * s.c + c) * s.hw;
        for (int64_t i = 0; i < s.hw; ++i) y[base + i] = static_cast<T>(x[base + i] * scale + shift);
      }
    }
  });
}

template <class T>
void batch_norm_backward(Context& ctx, const ChannelShape& s, const T* x, const T* dy, const T* gamma,
                         const T* save_mean, const T* save_invstd, T* dx, GradMode mode, T* dgamma, T* dbeta) {
  const double count = static_cast<double>(s.per_channel());
  ctx.pool().parallel_for(s.c, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      const double mean = save_mean[c], invstd = save_invstd[c];
      double sum_dy = 0, sum_dy_xhat = 0;
      for (int64_t n = 0; n < s.n; ++n) {
        const int64_t base = (n * s.c + c) * s.hw;
        for (int64_t i = 0; i < s.hw; ++i) {
          sum_dy += dy[base + i];
          sum_dy_xhat += dy[base + i] * (x[base + i] - mean) * invstd;
        }
      }
      if (dgamma) dgamma[c] += static_cast<T>(sum_dy_xhat);
      if (dbeta) dbeta[c] += static_cast<T>(sum_dy);
      if (!dx) continue;
      // dx = gamma * invstd / M * (M * dy - sum dy - xhat * sum dy*xhat)
      const double k = gamma[c] * invstd / count;
      for (int64_t n = 0; n < s.n; ++n) {
        const int64_t base = (n * s.c + c) * s.hw;
        for (int64_t i = 0; i < s.hw; ++i) {
          const double xhat = (x[base + i] - mean) * invstd;
          const T g = static_cast<T>(k * (count * dy[base + i] - sum_dy - xhat * sum_dy_xhat));
          dx[base + i] = mode == GradMode::accumulate ? dx[base + i] + g : g;
        }
      }
    }
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
