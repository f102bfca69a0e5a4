#include "apps/sparsity.h"

#include "engine/context.h"
#include "engine/error.h"
#include "kernels/proximal.h"

namespace rotor {

static bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

ProximalL1::ProximalL1(std::vector<std::pair<std::string, Parameter*>> params, const SparsitySettings& settings)
    : settings_(settings) {
  for (auto& [name, p] : params) {
    if (!p->trainable()) continue;
    if (p->group == ParamGroup::slopes) slopes_.push_back(p);
    // A batch norm's scale is its ".weight" (".bias" is the shift).
    if (p->group == ParamGroup::bn && ends_with(name, ".weight")) bn_scales_.push_back(p);
  }
}

void ProximalL1::apply(Context& ctx, double lr) const {
  if (settings_.slope_l1 > 0)
    for (Parameter* p : slopes_) soft_threshold(ctx, p->value(), lr * settings_.slope_l1);
  if (settings_.bn_l1 > 0)
    for (Parameter* p : bn_scales_) soft_threshold(ctx, p->value(), lr * settings_.bn_l1);
}

std::array<float, 2> ProximalL1::thresholds(double lr) const {
  return {static_cast<float>(lr * settings_.slope_l1), static_cast<float>(lr * settings_.bn_l1)};
}

void ProximalL1::apply_reading(Context& ctx, const float* thresholds_dev) const {
  ROTOR_CHECK(ctx.on_cuda(), "ProximalL1::apply_reading: device thresholds are for CUDA graph steps");
#if ROTOR_HAVE_CUDA
  if (settings_.slope_l1 > 0)
    for (Parameter* p : slopes_)
      cuda::soft_threshold_reading(ctx, p->value().numel(), thresholds_dev, p->value().f32());
  if (settings_.bn_l1 > 0)
    for (Parameter* p : bn_scales_)
      cuda::soft_threshold_reading(ctx, p->value().numel(), thresholds_dev + 1, p->value().f32());
#else
  (void)thresholds_dev;
#endif
}

void soft_threshold(Context& ctx, Tensor& x, double threshold) {
  ROTOR_CHECK(x.dtype() == DType::f32, "soft_threshold: expected a float32 tensor");
#if ROTOR_HAVE_CUDA
  if (ctx.on_cuda()) {
    cuda::soft_threshold(ctx, x.numel(), static_cast<float>(threshold), x.f32());
    return;
  }
#endif
  cpu::soft_threshold<float>(ctx, x.numel(), static_cast<float>(threshold), x.f32());
}

}  // namespace rotor
