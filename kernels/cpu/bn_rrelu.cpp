// CPU fused batch norm + RReLU (slope == nullptr: + ReLU).
#include "kernels/bn_rrelu.h"

#include <cmath>

#include "engine/context.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/channel_stats.h"

namespace rotor::cpu {

using detail::for_channel_ranges;
using detail::for_planes;

namespace {

// y = b * max(0, x * scale + shift) over channels [c0, c1).
template <class T>
void apply(const ChannelShape& s, int64_t c0, int64_t c1, const T* x, const double* scale, const double* shift,
           const T* slope, T* y) {
  for_planes(s, c0, c1, [&](int64_t, int64_t c, int64_t base) {
    const double a = scale[c - c0], sh = shift[c - c0], b = slope ? double(slope[c]) : 1.0;
    for (int64_t i = 0; i < s.hw; ++i) {
      const double z = x[base + i] * a + sh;
      y[base + i] = static_cast<T>(b * positive_part(z));
    }
  });
}

}  // namespace

template <class T>
void bn_rrelu_forward_train(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                            const T* slope, T* running_mean, T* running_var, double momentum, double eps, T* y,
                            T* save_mean, T* save_invstd) {
  for_channel_ranges(ctx, s, 4, [&](int64_t c0, int64_t c1, double* tmp) {
    double *scale, *shift;
    detail::train_affine(s, x, gamma, beta, running_mean, running_var, momentum, eps, save_mean, save_invstd, c0, c1,
                         tmp, &scale, &shift);
    apply(s, c0, c1, x, scale, shift, slope, y);
  });
}

template <class T>
void bn_rrelu_forward_eval(Context& ctx, const ChannelShape& s, const T* x, const T* gamma, const T* beta,
                           const T* slope, const T* running_mean, const T* running_var, double eps, T* y) {
  for_channel_ranges(ctx, s, 2, [&](int64_t c0, int64_t c1, double* tmp) {
    double *scale, *shift;
    detail::eval_affine(gamma, beta, running_mean, running_var, eps, c0, c1, tmp, &scale, &shift);
    apply(s, c0, c1, x, scale, shift, slope, y);
  });
}

template <class T>
void bn_rrelu_backward(Context& ctx, const ChannelShape& s, const T* x, const T* dy, const T* gamma, const T* beta,
                       const T* slope, const T* save_mean, const T* save_invstd, T* dx, GradMode mode, T* dgamma,
                       T* dbeta, T* dslope) {
  const double count = static_cast<double>(s.per_channel());
  for_channel_ranges(ctx, s, 3, [&](int64_t c0, int64_t c1, double* tmp) {
    const int64_t w = c1 - c0;
    double *sum_dz = tmp, *sum_dz_xhat = tmp + w, *sum_dy_act = tmp + 2 * w;
    // Pass 1: the three per-channel reductions, dz = dy * b * [z > 0].
    for_planes(s, c0, c1, [&](int64_t, int64_t c, int64_t base) {
      const double mean = save_mean[c], invstd = save_invstd[c], g = gamma[c], bt = beta[c];
      const double b = slope ? double(slope[c]) : 1.0;
      const auto sums = detail::plane_sums<3>(s.hw, [&](int64_t i) {
        const double xhat = (x[base + i] - mean) * invstd;
        const double z = g * xhat + bt;
        // Where z <= 0 the unit passes no gradient.
        const double dy_on = where_positive(z, dy[base + i]);
        const double dz = dy_on * b;
        return std::array<double, 3>{dz, dz * xhat, dy_on * z};
      });
      sum_dz[c - c0] += sums[0];
      sum_dz_xhat[c - c0] += sums[1];
      sum_dy_act[c - c0] += sums[2];
    });
    for (int64_t c = c0; c < c1; ++c) {
      if (dgamma) dgamma[c] += static_cast<T>(sum_dz_xhat[c - c0]);
      if (dbeta) dbeta[c] += static_cast<T>(sum_dz[c - c0]);
      if (dslope) dslope[c] += static_cast<T>(sum_dy_act[c - c0]);
    }
    if (!dx) return;
    // Pass 2: dx = gamma * invstd / M * (M * dz - sum dz - xhat * sum dz*xhat).
    for_planes(s, c0, c1, [&](int64_t, int64_t c, int64_t base) {
      const double mean = save_mean[c], invstd = save_invstd[c], g = gamma[c], bt = beta[c];
      const double b = slope ? double(slope[c]) : 1.0, k = g * invstd / count;
      const double sdz = sum_dz[c - c0], sdzx = sum_dz_xhat[c - c0];
      for (int64_t i = 0; i < s.hw; ++i) {
        const double xhat = (x[base + i] - mean) * invstd;
        const double dz = where_positive(g * xhat + bt, dy[base + i] * b);
        const T v = static_cast<T>(k * (count * dz - sdz - xhat * sdzx));
        dx[base + i] = mode == GradMode::accumulate ? dx[base + i] + v : v;
      }
    });
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
