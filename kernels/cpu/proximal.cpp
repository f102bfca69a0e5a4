#include "kernels/proximal.h"

#include <cmath>

#include "engine/context.h"

namespace rotor::cpu {

template <class T>
void soft_threshold(Context& ctx, int64_t n, T threshold, T* x) {
  ctx.pool().parallel_for(
      n,
      [&](int64_t i0, int64_t i1, int) {
        for (int64_t i = i0; i < i1; ++i) {
          // |x| - threshold, clamped at 0, with x's sign back on.
          const T shrunk = std::fabs(x[i]) - threshold;
          x[i] = shrunk > 0 ? std::copysign(shrunk, x[i]) : T(0);
        }
      },
      1);
}

template void soft_threshold<float>(Context&, int64_t, float, float*);
template void soft_threshold<double>(Context&, int64_t, double, double*);

}  // namespace rotor::cpu
