#include "engine/optim.h"

#include "engine/context.h"
#include "engine/tensor_util.h"
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

void Optimizer::step(double lr) {
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
      const AdamHyper h{lr, config_.beta1, config_.beta2, config_.eps, wd, steps_ + 1};
#if ROTOR_HAVE_CUDA
      if (ctx_.on_cuda()) {
        cuda::adam_update(ctx_, slots.data(), count, h);
        continue;
      }
#endif
      cpu::adam_update<float>(ctx_, slots.data(), count, h);
    } else {
      const SgdHyper h{lr, config_.momentum, wd, config_.nesterov, steps_ == 0};
#if ROTOR_HAVE_CUDA
      if (ctx_.on_cuda()) {
        cuda::sgd_update(ctx_, slots.data(), count, h);
        continue;
      }
#endif
      cpu::sgd_update<float>(ctx_, slots.data(), count, h);
    }
  }
  // The update kernels zeroed every gradient they read: the trainable
  // parameters' gradients are ready for the next backward.
  ++steps_;
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
