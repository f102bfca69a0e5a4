#include "kernels/shortcut.h"

#include "engine/context.h"

namespace rotor::cpu {

template <class T>
void shortcut_a_forward(Context& ctx, const ShortcutShape& s, const T* x, T* y) {
  const int64_t ho = s.h_out(), wo = s.w_out(), front = s.pad_front();
  ctx.pool().parallel_for(s.n * s.c_out, [&](int64_t p0, int64_t p1, int) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / s.c_out, c = p % s.c_out - front;
      T* out = y + p * ho * wo;
      if (c < 0 || c >= s.c_in) {
        for (int64_t i = 0; i < ho * wo; ++i) out[i] = T(0);
        continue;
      }
      const T* in = x + (n * s.c_in + c) * s.h * s.w;
      for (int64_t oh = 0; oh < ho; ++oh)
        for (int64_t ow = 0; ow < wo; ++ow) out[oh * wo + ow] = in[oh * s.stride * s.w + ow * s.stride];
    }
  }, ho * wo);
}

template <class T>
void shortcut_a_backward(Context& ctx, const ShortcutShape& s, const T* dy, T* dx, GradMode mode) {
  if (!dx) return;  // not wanted (kernels/shapes.h)
  const int64_t ho = s.h_out(), wo = s.w_out(), front = s.pad_front();
  ctx.pool().parallel_for(s.n * s.c_in, [&](int64_t p0, int64_t p1, int) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / s.c_in, c = p % s.c_in;
      T* out = dx + p * s.h * s.w;
      if (mode == GradMode::assign)
        for (int64_t i = 0; i < s.h * s.w; ++i) out[i] = T(0);
      const T* in = dy + (n * s.c_out + c + front) * ho * wo;
      for (int64_t oh = 0; oh < ho; ++oh)
        for (int64_t ow = 0; ow < wo; ++ow) out[oh * s.stride * s.w + ow * s.stride] += in[oh * wo + ow];
    }
  }, s.h * s.w);
}

#define ROTOR_INSTANTIATE_SHORTCUT(T)                                                        \
  template void shortcut_a_forward<T>(Context&, const ShortcutShape&, const T*, T*);         \
  template void shortcut_a_backward<T>(Context&, const ShortcutShape&, const T*, T*, GradMode);
ROTOR_INSTANTIATE_SHORTCUT(float)
ROTOR_INSTANTIATE_SHORTCUT(double)

}  // namespace rotor::cpu
