#include "engine/optim.h"

#include "engine/context.h"
#include "engine/tensor_util.h"
#include "engine/error.h"
#include "kernels/optimizer.h"

namespace rotor {

static Tensor zeros_like(Context& ctx, const Tensor& t) {
  Tensor z = Tensor::empty(ctx, t.device(), t.shape());
  fill(ctx, z, 0.0f);
  return z;
}

Optimizer::Optimizer(Context& ctx, std::vector<std::pair<std::string, Parameter*>> params,
                     const OptimizerConfig& config)
    : ctx_(ctx), config_(config) {
  const bool adam = config_.kind == OptimizerConfig::Kind::adam;
  for (auto& [name, p] : params) {
    Entry e{name, p, {}, {}};
    if (adam || config_.momentum != 0) e.state1 = zeros_like(ctx, p->value());
    if (adam) e.state2 = zeros_like(ctx, p->value());
    entries_.push_back(std::move(e));
  }
}

SgdHyper Optimizer::sgd_hyper(double lr, double weight_decay) const {
  return SgdHyper{lr, config_.momentum, weight_decay, config_.nesterov, steps_ == 0};
}

AdamHyper Optimizer::adam_hyper(double lr, double weight_decay) const {
  return AdamHyper{lr, config_.beta1, config_.beta2, config_.eps, weight_decay, steps_ + 1};
}

void Optimizer::step(double lr) {
  update(lr, nullptr);
  // The update kernels zeroed every gradient they read: the trainable
  // parameters' gradients are ready for the next backward.
  ++steps_;
}

UpdateScalars Optimizer::step_scalars(double lr) const {
  // Weight decay is not among the scalars: any group's gives the same values.
  return config_.kind == OptimizerConfig::Kind::adam ? update_scalars(adam_hyper(lr, 0))
                                                     : update_scalars(sgd_hyper(lr, 0));
}

void Optimizer::step_reading(const UpdateScalars* scalars_dev) {
  ROTOR_CHECK(ctx_.on_cuda() && scalars_dev != nullptr,
              "Optimizer::step_reading: device scalars are for CUDA graph steps");
  update(0, scalars_dev);
}

void Optimizer::update(double lr, const UpdateScalars* scalars_dev) {
  (void)scalars_dev;  // CUDA only
  const bool adam = config_.kind == OptimizerConfig::Kind::adam;
  for (int gi = 0; gi < param_group_count; ++gi) {
    std::vector<ParamSlot<float>> slots;
    for (Entry& e : entries_) {
      if (static_cast<int>(e.param->group) != gi || !e.param->trainable()) continue;
      slots.push_back({e.param->value().f32(), e.param->grad().f32(),
                       e.state1.defined() ? e.state1.f32() : nullptr, e.state2.defined() ? e.state2.f32() : nullptr,
                       e.param->value().numel()});
    }
    if (slots.empty()) continue;
    const double wd = config_.groups[gi].weight_decay;
    const int count = static_cast<int>(slots.size());
    if (adam) {
      const AdamHyper h = adam_hyper(lr, wd);
#if ROTOR_HAVE_CUDA
      if (ctx_.on_cuda()) {
        cuda::adam_update_reading(ctx_, slots.data(), count, h, scalars_dev);
        continue;
      }
#endif
      cpu::adam_update<float>(ctx_, slots.data(), count, h);
    } else {
      const SgdHyper h = sgd_hyper(lr, wd);
#if ROTOR_HAVE_CUDA
      if (ctx_.on_cuda()) {
        cuda::sgd_update_reading(ctx_, slots.data(), count, h, scalars_dev);
        continue;
      }
#endif
      cpu::sgd_update<float>(ctx_, slots.data(), count, h);
    }
  }
}

std::vector<std::pair<std::string, Tensor*>> Optimizer::named_state() {
  const bool adam = config_.kind == OptimizerConfig::Kind::adam;
  std::vector<std::pair<std::string, Tensor*>> out;
  for (Entry& e : entries_) {
    if (e.state1.defined()) out.emplace_back(e.name + (adam ? ".adam_m" : ".momentum"), &e.state1);
    if (e.state2.defined()) out.emplace_back(e.name + ".adam_v", &e.state2);
  }
  return out;
}

}  // namespace rotor
