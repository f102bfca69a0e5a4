#include "kernels/activation.h"

#include "engine/context.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/channel_stats.h"

namespace rotor::cpu {

template <class T>
void relu_forward(Context& ctx, int64_t n, const T* x, T* y) {
  ctx.pool().parallel_for(n, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
  }, 1);
}

template <class T>
void relu_backward(Context& ctx, int64_t n, const T* x, const T* dy, T* dx, GradMode mode) {
  if (!dx) return;  // not wanted (kernels/shapes.h)
  ctx.pool().parallel_for(n, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) {
      const T g = x[i] > T(0) ? dy[i] : T(0);
      dx[i] = mode == GradMode::accumulate ? dx[i] + g : g;
    }
  }, 1);
}

template <class T>
void rrelu_forward(Context& ctx, const ChannelShape& s, const T* x, const T* slope, T* y) {
  ctx.pool().parallel_for(s.n * s.c, [&](int64_t p0, int64_t p1, int) {
    for (int64_t p = p0; p < p1; ++p) {
      const T b = slope[p % s.c];
      for (int64_t i = p * s.hw; i < (p + 1) * s.hw; ++i) y[i] = x[i] > T(0) ? b * x[i] : T(0);
    }
  }, s.hw);
}

template <class T>
void rrelu_backward(Context& ctx, const ChannelShape& s, const T* x, const T* dy, const T* slope, T* dx,
                    GradMode mode, T* dslope) {
  ctx.pool().parallel_for(s.c, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      const T b = slope[c];
      double sum = 0;
      for (int64_t n = 0; n < s.n; ++n) {
        const T* xp = x + (n * s.c + c) * s.hw;
        const T* dyp = dy + (n * s.c + c) * s.hw;
        // dslope = sum over the plane of dy * max(0, x).
        sum += detail::plane_sums<1>(s.hw, [&](int64_t i) {
          return std::array<double, 1>{where_positive(xp[i], static_cast<double>(dyp[i]) * xp[i])};
        })[0];
        if (!dx) continue;
        T* dxp = dx + (n * s.c + c) * s.hw;
        for (int64_t i = 0; i < s.hw; ++i) {
          const T g = xp[i] > T(0) ? dyp[i] * b : T(0);
          dxp[i] = mode == GradMode::accumulate ? dxp[i] + g : g;
        }
      }
      if (dslope) dslope[c] += static_cast<T>(sum);
    }
  }, s.n * s.hw);
}

#define ROTOR_INSTANTIATE_ACTIVATION(T)                                                                         \
  template void relu_forward<T>(Context&, int64_t, const T*, T*);                                               \
  template void relu_backward<T>(Context&, int64_t, const T*, const T*, T*, GradMode);                          \
  template void rrelu_forward<T>(Context&, const ChannelShape&, const T*, const T*, T*);                        \
  template void rrelu_backward<T>(Context&, const ChannelShape&, const T*, const T*, const T*, T*, GradMode, T*);
ROTOR_INSTANTIATE_ACTIVATION(float)
ROTOR_INSTANTIATE_ACTIVATION(double)

}  // namespace rotor::cpu
