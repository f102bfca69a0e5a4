// Counting the non-finite values (NaN, +-inf) of a float tensor on its own
// device, so that a check of a whole model moves one integer per tensor to
// the host instead of every parameter.
//
//   count_nonfinite  *count += number of i in [0, n) with x[i] not finite
// x (n) contiguous; count is one int64 on the op's device (added to, like
// count_correct's counter, so several tensors can share one). n may be 0.
#pragma once

#include <cstdint>

namespace rotor {
class Context;

namespace cpu {
template <class T>
void count_nonfinite(Context& ctx, int64_t n, const T* x, int64_t* count);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void count_nonfinite(Context& ctx, int64_t n, const float* x, int64_t* count);
}  // namespace cuda
#endif

}  // namespace rotor
