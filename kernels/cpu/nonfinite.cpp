#include <cmath>

#include "kernels/nonfinite.h"

namespace rotor::cpu {

template <class T>
void count_nonfinite(Context&, int64_t n, const T* x, int64_t* count) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += !std::isfinite(x[i]);
  *count += bad;
}

template void count_nonfinite<float>(Context&, int64_t, const float*, int64_t*);
template void count_nonfinite<double>(Context&, int64_t, const double*, int64_t*);

}  // namespace rotor::cpu
