// CPU batch norm + residual add + ReLU/RReLU (kernels/bn_add_act.h), the
// reference for kernels/cuda/bn_add_act.cu. Plain loops over each thread's
// channel range; the statistics are batch_norm's own (detail::train_affine),
// and every rounding step of the unfused batch_norm -> add -> rrelu sequence
// is kept: the batch-norm output is rounded to T, r is added in T, the
// product with the slope is taken in T.
#include "kernels/bn_add_act.h"

#include "engine/context.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/channel_stats.h"

namespace rotor::cpu {

using detail::for_channel_ranges;
using detail::for_planes;

namespace {

// y = b * max(0, T(x * scale + shift) + r) over channels [c0, c1).
template <class T>
void apply(const ChannelShape& s, int64_t c0, int64_t c1, const T* x, const T* r, const double* scale,
           const double* shift, const T* slope, T* y) {
  for_planes(s, c0, c1, [&](int64_t, int64_t c, int64_t base) {
    const double a = scale[c - c0], sh = shift[c - c0];
    const double b = slope ? double(slope[c]) : 1.0;
    for (int64_t i = base; i < base + s.hw; ++i) {
      const T bn = static_cast<T>(x[i] * a + sh);
      const T z = bn + r[i];
      y[i] = static_cast<T>(where_positive(z, b * z));  // b * z rounded once, as T's product is
    }
  });
}

}  // namespace

template <class T>
void bn_add_act_forward_train(Context& ctx, const ChannelShape& s, const T* x, const T* r, const T* gamma,
                              const T* beta, const T* slope, T* running_mean, T* running_var, double momentum,
                              double eps, T* y, T* save_mean, T* save_invstd) {
  for_channel_ranges(ctx, s, 4, [&](int64_t c0, int64_t c1, double* tmp) {
    double *scale, *shift;
    detail::train_affine(s, x, gamma, beta, running_mean, running_var, momentum, eps, save_mean, save_invstd, c0, c1,
                         tmp, &scale, &shift);
    apply(s, c0, c1, x, r, scale, shift, slope, y);
  });
}

template <class T>
void bn_add_act_forward_eval(Context& ctx, const ChannelShape& s, const T* x, const T* r, const T* gamma,
                             const T* beta, const T* slope, const T* running_mean, const T* running_var, double eps,
                             T* y) {
  for_channel_ranges(ctx, s, 2, [&](int64_t c0, int64_t c1, double* tmp) {
    double *scale, *shift;
    detail::eval_affine(gamma, beta, running_mean, running_var, eps, c0, c1, tmp, &scale, &shift);
    apply(s, c0, c1, x, r, scale, shift, slope, y);
  });
}

template <class T>
void bn_add_act_backward(Context& ctx, const ChannelShape& s, const T* x, const T* r, const T* dy, const T* gamma,
                         const T* beta, const T* slope, const T* save_mean, const T* save_invstd, T* dx,
                         GradMode dx_mode, T* dr, GradMode dr_mode, T* dgamma, T* dbeta, T* dslope) {
  const double count = static_cast<double>(s.per_channel());
  for_channel_ranges(ctx, s, 3, [&](int64_t c0, int64_t c1, double* tmp) {
    const int64_t w = c1 - c0;
    double *sum_dz = tmp, *sum_dz_xhat = tmp + w, *sum_dy_act = tmp + 2 * w;
    // The gradient at z = BN(x) + r, from z recomputed as the forward
    // rounded it: dz = dy * b where z > 0, else 0 (a mask, not a branch:
    // kernels/cpu/branchless.h; the double product rounds to T as T's does).
    auto grad_at_sum = [&](int64_t c, int64_t i, double xhat, T* z_out) {
      const T z = static_cast<T>(gamma[c] * xhat + beta[c]) + r[i];
      const double b = slope ? double(slope[c]) : 1.0;
      *z_out = z;
      return static_cast<T>(where_positive(z, dy[i] * b));
    };
    // Pass 1: dr (it needs no reduction) and the three per-channel sums.
    for_planes(s, c0, c1, [&](int64_t, int64_t c, int64_t base) {
      const double mean = save_mean[c], invstd = save_invstd[c];
      for (int64_t i = base; i < base + s.hw; ++i) {
        const double xhat = (x[i] - mean) * invstd;
        T z;
        const T dz = grad_at_sum(c, i, xhat, &z);
        if (dr) dr[i] = dr_mode == GradMode::accumulate ? dr[i] + dz : dz;
        sum_dz[c - c0] += dz;
        sum_dz_xhat[c - c0] += dz * xhat;
        sum_dy_act[c - c0] += where_positive(z, static_cast<double>(dy[i]) * z);
      }
    });
    for (int64_t c = c0; c < c1; ++c) {
      if (dgamma) dgamma[c] += static_cast<T>(sum_dz_xhat[c - c0]);
      if (dbeta) dbeta[c] += static_cast<T>(sum_dz[c - c0]);
      if (dslope && slope) dslope[c] += static_cast<T>(sum_dy_act[c - c0]);
    }
    if (!dx) return;
    // Pass 2: dx = gamma * invstd / M * (M * dz - sum dz - xhat * sum dz*xhat).
    for_planes(s, c0, c1, [&](int64_t, int64_t c, int64_t base) {
      const double mean = save_mean[c], invstd = save_invstd[c], k = gamma[c] * invstd / count;
      const double sdz = sum_dz[c - c0], sdzx = sum_dz_xhat[c - c0];
      for (int64_t i = base; i < base + s.hw; ++i) {
        const double xhat = (x[i] - mean) * invstd;
        T z;
        const T dz = grad_at_sum(c, i, xhat, &z);
        const T v = static_cast<T>(k * (count * dz - sdz - xhat * sdzx));
        dx[i] = dx_mode == GradMode::accumulate ? dx[i] + v : v;
      }
    });
  });
}

#define ROTOR_INSTANTIATE_BN_ADD_ACT(T)                                                                             \
  template void bn_add_act_forward_train<T>(Context&, const ChannelShape&, const T*, const T*, const T*, const T*,  \
                                            const T*, T*, T*, double, double, T*, T*, T*);                          \
  template void bn_add_act_forward_eval<T>(Context&, const ChannelShape&, const T*, const T*, const T*, const T*,   \
                                           const T*, const T*, const T*, double, T*);                               \
  template void bn_add_act_backward<T>(Context&, const ChannelShape&, const T*, const T*, const T*, const T*,       \
                                       const T*, const T*, const T*, const T*, T*, GradMode, T*, GradMode, T*, T*, \
                                       T*);
ROTOR_INSTANTIATE_BN_ADD_ACT(float)
ROTOR_INSTANTIATE_BN_ADD_ACT(double)

}  // namespace rotor::cpu
