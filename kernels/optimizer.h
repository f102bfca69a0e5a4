// Optimizer updates, applied to every tensor of one parameter group at once
// (the CUDA twins do a whole group in one launch).
//
// Each update reads an element's gradient and sets it to zero, ready for the
// next backward to accumulate into: zeroing every gradient costs no pass
// and, on the GPU, no launch per parameter of its own.
//
// SGD (PyTorch's): g = grad + wd * p; buf = g on the first step, else
// momentum * buf + g; step = nesterov ? g + momentum * buf : buf;
// p -= lr * step. momentum == 0 uses no buffer (buf may be nullptr).
//
// Adam (PyTorch's, bias-corrected, L2 weight decay added to the gradient):
// g = grad + wd * p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), t >= 1.
//
// A step replayed from a CUDA graph (engine/cuda_graph.h) cannot take the
// rate or the step count as kernel arguments (they are frozen at capture):
// the CUDA twins then read them from UpdateScalars in device memory, which
// the host rewrites before each replay. update_scalars() computes them with
// the roundings of the by-value path, so both give identical bits.
#pragma once

#include <cstdint>

namespace rotor {
class Context;

template <class T>
struct ParamSlot {
  T* param = nullptr;
  T* grad = nullptr;  // read, then zeroed
  T* state1 = nullptr;  // SGD momentum buffer; Adam first moment
  T* state2 = nullptr;  // Adam second moment
  int64_t n = 0;
};

struct SgdHyper {
  double lr = 0.1, momentum = 0, weight_decay = 0;
  bool nesterov = false;
  bool first_step = true;  // the momentum buffer starts at the first gradient
};

struct AdamHyper {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  int64_t step = 1;  // 1 on the first update
};

// The values of one update that change from step to step, as floats.
struct UpdateScalars {
  float lr = 0;          // SGD
  float first_step = 0;  // SGD: 1 when the momentum buffer starts at the gradient
  float step_size = 0;   // Adam: lr / (1 - beta1^t)
  float root_c2 = 0;     // Adam: sqrt(1 - beta2^t)
};
UpdateScalars update_scalars(const SgdHyper& h);
UpdateScalars update_scalars(const AdamHyper& h);

namespace cpu {
template <class T> void sgd_update(Context& ctx, const ParamSlot<T>* slots, int count, const SgdHyper& h);
template <class T> void adam_update(Context& ctx, const ParamSlot<T>* slots, int count, const AdamHyper& h);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void sgd_update(Context& ctx, const ParamSlot<float>* slots, int count, const SgdHyper& h);
void adam_update(Context& ctx, const ParamSlot<float>* slots, int count, const AdamHyper& h);
// The same updates for a step replayed from a CUDA graph: the rate and the
// step (SGD's lr and first_step, Adam's step_size and root_c2) come from
// UpdateScalars at scalars_dev when the kernels run, not from h.
void sgd_update_reading(Context& ctx, const ParamSlot<float>* slots, int count, const SgdHyper& h,
                        const UpdateScalars* scalars_dev);
void adam_update_reading(Context& ctx, const ParamSlot<float>* slots, int count, const AdamHyper& h,
                         const UpdateScalars* scalars_dev);
}  // namespace cuda
#endif

}  // namespace rotor
