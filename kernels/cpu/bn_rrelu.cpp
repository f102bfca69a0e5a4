// CPU fused batch norm + RReLU (slope == nullptr: + ReLU).
#include "kernels/bn_rrelu.h"

#include <cmath>

#include "engine/context.h"
#include "kernels/cpu/channel_stats.h"

namespace rotor::cpu {
namespace {

// y = b * max(0, x * scale + shift) over channel c.
template <class T>
void apply_channel(const ChannelShape& s, int64_t c, const T* x, double scale, double shift, double b, T* y) {
  for (int64_t n = 0; n < s.n; ++n) {
    const int64_t base = (n * s.c + c) * s.hw;
    for (int64_t i = 0; i < s.hw; ++i) {
      const double z = x[base + i] * scale + shift;
      y[base + i] = static_cast<T>(z > 0 ? b * z : 0.0);
    }
  }
}

}  // namespace

template <class T>
void bn_rrelu_forward_train(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                            const T* slope, T* running_mean, T* running_var, double momentum, double eps, T* y,
                            T* save_mean, T* save_invstd) {
  ctx.pool().parallel_for(s.c, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      const detail::ChannelMoments m = detail::channel_moments(s, x, c);
      detail::store_train_stats(s, c, m, momentum, eps, running_mean, running_var, save_mean, save_invstd);
      const double scale = gamma[c] / std::sqrt(m.var_biased + eps);
      apply_channel(s, c, x, scale, beta[c] - m.mean * scale, slope ? double(slope[c]) : 1.0, y);
    }
  });
}

template <class T>
void bn_rrelu_forward_eval(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                           const T* slope, const T* running_mean, const T* running_var, double eps, T* y) {
  ctx.pool().parallel_for(s.c, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      const double scale = gamma[c] / std::sqrt(static_cast<double>(running_var[c]) + eps);
      apply_channel(s, c, x, scale, beta[c] - running_mean[c] * scale, slope ? double(slope[c]) : 1.0, y);
    }
  });
}

template <class T>
void bn_rrelu_backward(Context& ctx, const ChannelShape& s, const T* x, const T* dy, const T* gamma, const T* beta,
                       const T* slope, const T* save_mean, const T* save_invstd, T* dx, GradMode mode, T* dgamma,
                       T* dbeta, T* dslope) {
  const double count = static_cast<double>(s.per_channel());
  ctx.pool().parallel_for(s.c, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      const double mean = save_mean[c], invstd = save_invstd[c];
      const double g = gamma[c], bt = beta[c], b = slope ? double(slope[c]) : 1.0;
      // Pass 1: the three per-channel reductions.
      double sum_dz = 0, sum_dz_xhat = 0, sum_dy_act = 0;
      for (int64_t n = 0; n < s.n; ++n) {
        const int64_t base = (n * s.c + c) * s.hw;
        for (int64_t i = 0; i < s.hw; ++i) {
          const double xhat = (x[base + i] - mean) * invstd;
          const double z = g * xhat + bt;
          if (z > 0) {
            const double dz = dy[base + i] * b;
            sum_dz += dz;
            sum_dz_xhat += dz * xhat;
            sum_dy_act += dy[base + i] * z;
          }
        }
      }
      if (dgamma) dgamma[c] += static_cast<T>(sum_dz_xhat);
      if (dbeta) dbeta[c] += static_cast<T>(sum_dz);
      if (dslope) dslope[c] += static_cast<T>(sum_dy_act);
      if (!dx) continue;
      // Pass 2: dx = gamma * invstd / M * (M * dz - sum dz - xhat * sum dz*xhat).
      const double k = g * invstd / count;
      for (int64_t n = 0; n < s.n; ++n) {
        const int64_t base = (n * s.c + c) * s.hw;
        for (int64_t i = 0; i < s.hw; ++i) {
          const double xhat = (x[base + i] - mean) * invstd;
          const double dz = g * xhat + bt > 0 ? dy[base + i] * b : 0.0;
          const T v = static_cast<T>(k * (count * dz - sum_dz - xhat * sum_dz_xhat));
          dx[base + i] = mode == GradMode::accumulate ? dx[base + i] + v : v;
        }
      }
    }
  });
}

#define ROTOR_INSTANTIATE_BN_RRELU(T)                                                                            \
  template void bn_rrelu_forward_train<T>(Context&, const ChannelShape&, const T*, const T*, const T*, const T*, \
                                          T*, T*, double, double, T*, T*, T*);                                    \
  template void bn_rrelu_forward_eval<T>(Context&, const ChannelShape&, const T*, const T*, const T*, const T*,  \
                                         const T*, const T*, double, T*);                                         \
  template void bn_rrelu_backward<T>(Context&, const ChannelShape&, const T*, const T*, const T*, const T*,      \
                                     const T*, const T*, const T*, T*, GradMode, T*, T*, T*);
ROTOR_INSTANTIATE_BN_RRELU(float)
ROTOR_INSTANTIATE_BN_RRELU(double)

}  // namespace rotor::cpu
