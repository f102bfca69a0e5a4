#include "kernels/elementwise.h"

#include "engine/context.h"

namespace rotor::cpu {

// Elementwise loops are memory-bound: threads only pay off on large arrays,
// which the pool's grain (one element per item) takes care of.
template <class Body>
static void for_elements(Context& ctx, int64_t n, const Body& body) {
  ctx.pool().parallel_for(n, [&](int64_t i0, int64_t i1, int) { body(i0, i1); }, 1);
}

template <class T>
void add_forward(Context& ctx, int64_t n, const T* a, const T* b, T* y) {
  for_elements(ctx, n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] = a[i] + b[i];
  });
}

template <class T>
void copy_grad(Context& ctx, int64_t n, const T* src, T* dst, GradMode mode) {
  for_elements(ctx, n, [&](int64_t i0, int64_t i1) {
    if (mode == GradMode::accumulate)
      for (int64_t i = i0; i < i1; ++i) dst[i] += src[i];
    else
      for (int64_t i = i0; i < i1; ++i) dst[i] = src[i];
  });
}

template <class T>
void fill(Context& ctx, int64_t n, T value, T* dst) {
  for_elements(ctx, n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) dst[i] = value;
  });
}

template <class T>
void scale(Context& ctx, int64_t n, T alpha, T* x) {
  for_elements(ctx, n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) x[i] *= alpha;
  });
}

template <class T>
void axpy(Context& ctx, int64_t n, T alpha, const T* x, T* y) {
  for_elements(ctx, n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] += alpha * x[i];
  });
}

#define ROTOR_INSTANTIATE_ELEMENTWISE(T)                                          \
  template void add_forward<T>(Context&, int64_t, const T*, const T*, T*);       \
  template void copy_grad<T>(Context&, int64_t, const T*, T*, GradMode);         \
  template void fill<T>(Context&, int64_t, T, T*);                                \
  template void scale<T>(Context&, int64_t, T, T*);                               \
  template void axpy<T>(Context&, int64_t, T, const T*, T*);
ROTOR_INSTANTIATE_ELEMENTWISE(float)
ROTOR_INSTANTIATE_ELEMENTWISE(double)

}  // namespace rotor::cpu
