#include "kernels/dropout.h"

#include "engine/context.h"

namespace rotor::cpu {

template <class T>
void dropout_forward(Context& ctx, int64_t n, const T* x, double p, uint64_t seed, T* y) {
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  ctx.pool().parallel_for(n, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) y[i] = dropout_keep(seed, i, p) ? x[i] * scale : T(0);
  }, 1);
}

template <class T>
void dropout_backward(Context& ctx, int64_t n, const T* dy, double p, uint64_t seed, T* dx, GradMode mode) {
  if (!dx) return;  // not wanted (kernels/shapes.h)
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  ctx.pool().parallel_for(n, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) {
      const T g = dropout_keep(seed, i, p) ? dy[i] * scale : T(0);
      dx[i] = mode == GradMode::accumulate ? dx[i] + g : g;
    }
  }, 1);
}

template void dropout_forward<float>(Context&, int64_t, const float*, double, uint64_t, float*);
template void dropout_forward<double>(Context&, int64_t, const double*, double, uint64_t, double*);
template void dropout_backward<float>(Context&, int64_t, const float*, double, uint64_t, float*, GradMode);
template void dropout_backward<double>(Context&, int64_t, const double*, double, uint64_t, double*, GradMode);

}  // namespace rotor::cpu
