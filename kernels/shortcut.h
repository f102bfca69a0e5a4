// The option-A shortcut of CIFAR ResNets (He et al. 2016): subsample by the
// stride and pad channels with zeros, (c_out - c_in) / 2 before and the rest
// after. It has no parameters, so a stage transition costs no weights.
//   forward   y (N, C_out, Ho, Wo)
//   backward  dx (N, C_in, H, W) [mode]: dy's real channels at the sampled
//             positions, zero elsewhere
#pragma once

#include "kernels/shapes.h"

namespace rotor {
class Context;

namespace cpu {
template <class T> void shortcut_a_forward(Context& ctx, const ShortcutShape& s, const T* x, T* y);
template <class T>
void shortcut_a_backward(Context& ctx, const ShortcutShape& s, const T* dy, T* dx, GradMode mode);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void shortcut_a_forward(Context& ctx, const ShortcutShape& s, const float* x, float* y);
void shortcut_a_backward(Context& ctx, const ShortcutShape& s, const float* dy, float* dx, GradMode mode);
}  // namespace cuda
#endif

}  // namespace rotor
