#include "kernels/channel_select.h"

#include <algorithm>
#include <vector>

#include "engine/context.h"

namespace rotor::cpu {

template <class T>
void channel_gather(Context& ctx, const ChannelSubset& s, const T* x, const int32_t* index, T* y) {
  ctx.pool().parallel_for(s.n * s.k, [&](int64_t p0, int64_t p1, int) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / s.k, k = p % s.k;
      std::copy_n(x + (n * s.c + index[k]) * s.hw, s.hw, y + p * s.hw);
    }
  }, s.hw);
}

template <class T>
void channel_gather_backward(Context& ctx, const ChannelSubset& s, const T* dy, const int32_t* index, T* dx,
                             GradMode mode) {
  if (!dx) return;  // not wanted (kernels/shapes.h)
  // Which subset position feeds each channel (-1: none).
  std::vector<int64_t> source(static_cast<size_t>(s.c), -1);
  for (int64_t k = 0; k < s.k; ++k) source[index[k]] = k;
  ctx.pool().parallel_for(s.n * s.c, [&](int64_t p0, int64_t p1, int) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / s.c, k = source[p % s.c];
      T* out = dx + p * s.hw;
      if (k < 0) {
        if (mode == GradMode::assign) std::fill_n(out, s.hw, T(0));
        continue;
      }
      const T* in = dy + (n * s.k + k) * s.hw;
      for (int64_t i = 0; i < s.hw; ++i) out[i] = mode == GradMode::accumulate ? out[i] + in[i] : in[i];
    }
  }, s.hw);
}

template <class T>
void channel_add_into(Context& ctx, const ChannelSubset& s, const T* base, const T* part, const int32_t* index, T* y) {
  std::vector<int64_t> source(static_cast<size_t>(s.c), -1);
  for (int64_t k = 0; k < s.k; ++k) source[index[k]] = k;
  ctx.pool().parallel_for(s.n * s.c, [&](int64_t p0, int64_t p1, int) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / s.c, k = source[p % s.c];
      const T* b = base + p * s.hw;
      T* out = y + p * s.hw;
      if (k < 0) {
        std::copy_n(b, s.hw, out);
        continue;
      }
      const T* a = part + (n * s.k + k) * s.hw;
      for (int64_t i = 0; i < s.hw; ++i) out[i] = b[i] + a[i];
    }
  }, s.hw);
}

#define ROTOR_INSTANTIATE_CHANNEL_SELECT(T)                                                                         \
  template void channel_gather<T>(Context&, const ChannelSubset&, const T*, const int32_t*, T*);                    \
  template void channel_gather_backward<T>(Context&, const ChannelSubset&, const T*, const int32_t*, T*, GradMode); \
  template void channel_add_into<T>(Context&, const ChannelSubset&, const T*, const T*, const int32_t*, T*);
ROTOR_INSTANTIATE_CHANNEL_SELECT(float)
ROTOR_INSTANTIATE_CHANNEL_SELECT(double)

}  // namespace rotor::cpu
