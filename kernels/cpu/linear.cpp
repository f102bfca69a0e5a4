#include "kernels/linear.h"

#include "engine/context.h"
#include "kernels/gemm.h"

namespace rotor::cpu {

template <class T>
void linear_forward(Context& ctx, const LinearShape& s, const T* x, const T* w, const T* bias, T* y) {
  gemm<T>(ctx, false, true, s.n, s.out, s.in, T(1), x, s.in, w, s.in, T(0), y, s.out);
  if (!bias) return;
  for (int64_t i = 0; i < s.n; ++i)
    for (int64_t j = 0; j < s.out; ++j) y[i * s.out + j] += bias[j];
}

template <class T>
void linear_backward_data(Context& ctx, const LinearShape& s, const T* dy, const T* w, T* dx, GradMode mode) {
  if (!dx) return;  // not wanted (kernels/shapes.h)
  gemm<T>(ctx, false, false, s.n, s.in, s.out, T(1), dy, s.out, w, s.in,
          mode == GradMode::accumulate ? T(1) : T(0), dx, s.in);
}

template <class T>
void linear_backward_weight(Context& ctx, const LinearShape& s, const T* x, const T* dy, T* dw, T* dbias) {
  if (dw) gemm<T>(ctx, true, false, s.out, s.in, s.n, T(1), dy, s.out, x, s.in, T(1), dw, s.in);
  if (!dbias) return;
  for (int64_t j = 0; j < s.out; ++j) {
    double sum = 0;
    for (int64_t i = 0; i < s.n; ++i) sum += dy[i * s.out + j];
    dbias[j] += static_cast<T>(sum);
  }
}

#define ROTOR_INSTANTIATE_LINEAR(T)                                                                     \
  template void linear_forward<T>(Context&, const LinearShape&, const T*, const T*, const T*, T*);      \
  template void linear_backward_data<T>(Context&, const LinearShape&, const T*, const T*, T*, GradMode); \
  template void linear_backward_weight<T>(Context&, const LinearShape&, const T*, const T*, T*, T*);
ROTOR_INSTANTIATE_LINEAR(float)
ROTOR_INSTANTIATE_LINEAR(double)

}  // namespace rotor::cpu
