// Optimizers over a model's parameters, with per-group settings.
//
// Each ParamGroup (weights, bn, slopes, bias) has its own weight decay and
// can be frozen; the method needs the slopes' decay as its own knob, and the
// coarse-feature step freezes everything but the slopes. Updates go group by
// group through the optimizer kernels (one launch per group on the GPU),
// which also zero the gradients they read: no launch per parameter.
// State tensors are named after their parameter for checkpoints.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/module.h"
#include "kernels/optimizer.h"

namespace rotor {

struct GroupSettings {
  double weight_decay = 0;
};

struct OptimizerConfig {
  enum class Kind { sgd, adam } kind = Kind::sgd;
  double momentum = 0.9;  // SGD
  bool nesterov = false;  // SGD
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam
  std::array<GroupSettings, param_group_count> groups{};

  GroupSettings& group(ParamGroup g) { return groups[static_cast<int>(g)]; }
  const GroupSettings& group(ParamGroup g) const { return groups[static_cast<int>(g)]; }
};

class Optimizer {
 public:
  // params: (name, parameter) pairs; frozen (non-trainable) ones are skipped
  // at every step.
  Optimizer(Context& ctx, std::vector<std::pair<std::string, Parameter*>> params, const OptimizerConfig& config);

  // Updates every trainable parameter from its accumulated gradient with
  // learning rate lr, and zeroes those gradients (in the same pass).
  void step(double lr);
  int64_t steps_taken() const { return steps_; }

  // The update as a step captured in a CUDA graph runs it
  // (engine/cuda_graph.h): the kernels read the rate and the step count
  // from device memory, which the host fills with step_scalars(lr) (the
  // values step(lr) would use now) before each replay. step_reading
  // enqueues that update on CUDA without counting it; count_step() counts
  // each replay. Bit-identical to step(lr) for the same values.
  UpdateScalars step_scalars(double lr) const;
  void step_reading(const UpdateScalars* scalars_dev);
  void count_step() { ++steps_; }
  const OptimizerConfig& config() const { return config_; }

  // For checkpoints: the step count and every state tensor by name
  // ("<param>.momentum", "<param>.adam_m", "<param>.adam_v").
  void set_steps_taken(int64_t steps) { steps_ = steps; }
  std::vector<std::pair<std::string, Tensor*>> named_state();

 private:
  // One pass over the groups: with the rate lr, or the values at scalars_dev.
  void update(double lr, const UpdateScalars* scalars_dev);
  SgdHyper sgd_hyper(double lr, double weight_decay) const;
  AdamHyper adam_hyper(double lr, double weight_decay) const;
  struct Entry {
    std::string name;
    Parameter* param;
    Tensor state1, state2;
  };
  Context& ctx_;
  OptimizerConfig config_;
  std::vector<Entry> entries_;
  int64_t steps_ = 0;
};

}  // namespace rotor
