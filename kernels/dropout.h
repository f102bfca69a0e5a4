// Inverted dropout with a counter-based mask: element i is kept when
// hash(seed, i) maps to a uniform value >= p, and kept values are scaled by
// 1 / (1 - p). The mask is recomputed in backward from (seed, i), so nothing
// is stored and the CPU and GPU masks are identical.
//   forward   y = x * keep(i) / (1 - p)
//   backward  dx = dy * keep(i) / (1 - p)   [mode]
#pragma once

#include <cstdint>

#include "engine/hash.h"
#include "kernels/shapes.h"

namespace rotor {
class Context;

ROTOR_HOST_DEVICE inline bool dropout_keep(uint64_t seed, int64_t i, double p) {
  const double u = static_cast<double>(hash_u64(seed, static_cast<uint64_t>(i)) >> 11) * 0x1.0p-53;
  return u >= p;
}

namespace cpu {
template <class T> void dropout_forward(Context& ctx, int64_t n, const T* x, double p, uint64_t seed, T* y);
template <class T>
void dropout_backward(Context& ctx, int64_t n, const T* dy, double p, uint64_t seed, T* dx, GradMode mode);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void dropout_forward(Context& ctx, int64_t n, const float* x, double p, uint64_t seed, float* y);
void dropout_backward(Context& ctx, int64_t n, const float* dy, double p, uint64_t seed, float* dx, GradMode mode);

// The same, for a step captured as a CUDA graph (apps/graph_step.h): the
// mask's seed is hash_u64(*step_seed_dev, use), read by the kernel from a
// device word the host rewrites before each replay, so every replay draws
// a new mask. Eagerly Graph::next_seed() gives hash_u64(step seed, use):
// the same seed, hence the same mask, as the eager step.
void dropout_forward_step_seed(Context& ctx, int64_t n, const float* x, double p, const uint64_t* step_seed_dev,
                               uint64_t use, float* y);
void dropout_backward_step_seed(Context& ctx, int64_t n, const float* dy, double p, const uint64_t* step_seed_dev,
                                uint64_t use, float* dx, GradMode mode);
}  // namespace cuda
#endif

}  // namespace rotor
