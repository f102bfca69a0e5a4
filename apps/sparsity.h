// Explicit sparsity while training: L1 penalties applied as proximal
// (soft-threshold) steps after each optimizer update.
//
//   slope_l1  lambda on |b| of every RReLU slope (--slope-l1)
//   bn_l1     lambda on |gamma| of every batch-norm scale (--bn-l1), network
//             slimming's penalty (Liu et al. 2017)
//
// After optimizer.step(lr), each penalised value moves lr * lambda towards 0
// and stops at exactly 0 (kernels/proximal.h). Design decision: the BN
// penalty is a proximal step too, not the slimming paper's subgradient
// lambda * sign(gamma) added to the gradient: (1) under Adam a subgradient is
// divided by the running gradient scale, so its pull depends on the
// gradient noise rather than on lambda, and (2) a subgradient never puts a
// scale at exactly 0, so the pruning threshold would sit on a cloud of
// small values. One rule for both penalties also keeps them comparable.
// With lambda = 0 nothing runs: the run is bit for bit the plain one.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "engine/module.h"

namespace rotor {

struct SparsitySettings {
  double slope_l1 = 0;
  double bn_l1 = 0;
  bool any() const { return slope_l1 > 0 || bn_l1 > 0; }
};

class ProximalL1 {
 public:
  // params: the model's (name, parameter) pairs; frozen ones are skipped.
  ProximalL1(std::vector<std::pair<std::string, Parameter*>> params, const SparsitySettings& settings);

  // The proximal step for learning rate lr (after the optimizer's step).
  void apply(Context& ctx, double lr) const;

  // For a step replayed from a CUDA graph (apps/trainer.cpp), whose kernel
  // arguments are frozen at capture: the thresholds of rate lr as apply()
  // rounds them, {slopes, batch-norm scales}, which the host copies to
  // device memory before each replay, and the step reading them there
  // (CUDA only). Bit-identical to apply(ctx, lr).
  std::array<float, 2> thresholds(double lr) const;
  void apply_reading(Context& ctx, const float* thresholds_dev) const;

 private:
  std::vector<Parameter*> slopes_, bn_scales_;
  SparsitySettings settings_;
};

// Soft-thresholds one float tensor on the context's device.
void soft_threshold(Context& ctx, Tensor& x, double threshold);

}  // namespace rotor
