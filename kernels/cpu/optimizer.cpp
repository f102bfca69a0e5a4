#include "kernels/optimizer.h"

#include <cmath>

#include "engine/context.h"

namespace rotor {

// The casts of the by-value paths (below and kernels/cuda/optimizer.cu).
UpdateScalars update_scalars(const SgdHyper& h) {
  UpdateScalars s;
  s.lr = static_cast<float>(h.lr);
  s.first_step = h.first_step ? 1.0f : 0.0f;
  return s;
}

UpdateScalars update_scalars(const AdamHyper& h) {
  UpdateScalars s;
  s.lr = static_cast<float>(h.lr);
  s.step_size = static_cast<float>(h.lr / (1 - std::pow(h.beta1, static_cast<double>(h.step))));
  s.root_c2 = static_cast<float>(std::sqrt(1 - std::pow(h.beta2, static_cast<double>(h.step))));
  return s;
}

}  // namespace rotor

namespace rotor::cpu {
namespace {

// Updates are elementwise: big tensors are split across the pool.
template <class Body>
void for_slot(Context& ctx, int64_t n, const Body& body) {
  ctx.pool().parallel_for(n, [&](int64_t i0, int64_t i1, int) { body(i0, i1); }, 1);
}

}  // namespace

template <class T>
void sgd_update(Context& ctx, const ParamSlot<T>* slots, int count, const SgdHyper& h) {
  const T lr = static_cast<T>(h.lr), mom = static_cast<T>(h.momentum), wd = static_cast<T>(h.weight_decay);
  for (int t = 0; t < count; ++t) {
    const ParamSlot<T>& s = slots[t];
    for_slot(ctx, s.n, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        T g = s.grad[i] + wd * s.param[i];
        s.grad[i] = 0;
        if (h.momentum != 0) {
          const T buf = h.first_step ? g : mom * s.state1[i] + g;
          s.state1[i] = buf;
          g = h.nesterov ? g + mom * buf : buf;
        }
        s.param[i] -= lr * g;
      }
    });
  }
}

template <class T>
void adam_update(Context& ctx, const ParamSlot<T>* slots, int count, const AdamHyper& h) {
  const T b1 = static_cast<T>(h.beta1), b2 = static_cast<T>(h.beta2), wd = static_cast<T>(h.weight_decay);
  const T step_size = static_cast<T>(h.lr / (1 - std::pow(h.beta1, static_cast<double>(h.step))));
  const T root_c2 = static_cast<T>(std::sqrt(1 - std::pow(h.beta2, static_cast<double>(h.step))));
  const T eps = static_cast<T>(h.eps);
  for (int t = 0; t < count; ++t) {
    const ParamSlot<T>& s = slots[t];
    for_slot(ctx, s.n, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const T g = s.grad[i] + wd * s.param[i];
        s.grad[i] = 0;
        const T m = b1 * s.state1[i] + (1 - b1) * g;
        const T v = b2 * s.state2[i] + (1 - b2) * g * g;
        s.state1[i] = m;
        s.state2[i] = v;
        s.param[i] -= step_size * m / (std::sqrt(v) / root_c2 + eps);
      }
    });
  }
}

template void sgd_update<float>(Context&, const ParamSlot<float>*, int, const SgdHyper&);
template void sgd_update<double>(Context&, const ParamSlot<double>*, int, const SgdHyper&);
template void adam_update<float>(Context&, const ParamSlot<float>*, int, const AdamHyper&);
template void adam_update<double>(Context&, const ParamSlot<double>*, int, const AdamHyper&);

}  // namespace rotor::cpu
