#include "kernels/pool.h"

#include "engine/context.h"

namespace rotor::cpu {

template <class T>
void global_avg_pool_forward(Context& ctx, const ChannelShape& s, const T* x, T* y) {
  ctx.pool().parallel_for(s.n * s.c, [&](int64_t p0, int64_t p1, int) {
    for (int64_t p = p0; p < p1; ++p) {
      double sum = 0;
      for (int64_t i = 0; i < s.hw; ++i) sum += x[p * s.hw + i];
      y[p] = static_cast<T>(sum / static_cast<double>(s.hw));
    }
  }, s.hw);
}

template <class T>
void global_avg_pool_backward(Context& ctx, const ChannelShape& s, const T* dy, T* dx, GradMode mode) {
  if (!dx) return;  // not wanted (kernels/shapes.h)
  ctx.pool().parallel_for(s.n * s.c, [&](int64_t p0, int64_t p1, int) {
    for (int64_t p = p0; p < p1; ++p) {
      const T g = static_cast<T>(dy[p] / static_cast<double>(s.hw));
      T* out = dx + p * s.hw;
      for (int64_t i = 0; i < s.hw; ++i) out[i] = mode == GradMode::accumulate ? out[i] + g : g;
    }
  }, s.hw);
}

#define ROTOR_INSTANTIATE_POOL(T)                                                              \
  template void global_avg_pool_forward<T>(Context&, const ChannelShape&, const T*, T*);       \
  template void global_avg_pool_backward<T>(Context&, const ChannelShape&, const T*, T*, GradMode);
ROTOR_INSTANTIATE_POOL(float)
ROTOR_INSTANTIATE_POOL(double)

}  // namespace rotor::cpu
