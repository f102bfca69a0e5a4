// The autograd tape: Variables, the Graph that records backward closures,
// and the rule for how gradients are written.
//
// THE RULE (read this before writing an op):
//   * Parameter gradients ACCUMULATE (+=). They are allocated once, zeroed
//     by the optimizer, and every backward adds to them.
//   * Activation gradients are ASSIGNED (=) by their first writer and
//     accumulated by later writers. An activation used twice (a residual
//     input feeding both the branch and the shortcut) gets the sum.
// grad_target() hands a backward the pointer and the GradMode to use.
//
// A forward op computes its output, then records one closure that captures
// what backward needs (inputs, saved statistics). Graph::backward seeds the
// loss gradient with 1 and runs the closures in reverse order; a closure
// whose output received no gradient does nothing.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "engine/hash.h"
#include "engine/tensor.h"
#include "kernels/shapes.h"

namespace rotor {

struct Variable {
  Tensor value;
  Tensor grad;                 // allocated by the first backward that writes it
  bool requires_grad = false;  // false: backward writes nothing for it
  bool accumulate = false;     // true once grad holds a value (or for parameters)
};
using Var = std::shared_ptr<Variable>;

Var make_var(Tensor value, bool requires_grad = false);

// Where a backward writes the gradient of `v`: data == nullptr when v needs
// no gradient.
struct GradTarget {
  float* data = nullptr;
  GradMode mode = GradMode::assign;
};

class Graph {
 public:
  // training: ops use batch statistics and record backward closures.
  // Evaluation graphs record nothing and use running statistics.
  // seed: the randomness of this step (dropout masks); a trainer passes a
  // hash of the run seed and the step number. step_seed_dev: for a step
  // captured as a CUDA graph (apps/graph_step.h), a device word that holds
  // each replay's seed instead (random ops read it in their kernels).
  Graph(Context& ctx, bool training, uint64_t seed = 0, const uint64_t* step_seed_dev = nullptr)
      : ctx_(ctx), training_(training), seed_(seed), step_seed_dev_(step_seed_dev) {}
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  Context& ctx() { return ctx_; }
  bool training() const { return training_; }
  // A fresh seed for each random op of this step: hash_u64(seed, use) with
  // use = 1, 2, ... When step_seed_dev() is set, an op takes next_use()
  // instead and its kernel hashes it with the device's seed.
  uint64_t next_seed() { return hash_u64(seed_, next_use()); }
  uint64_t next_use() { return ++seed_uses_; }
  const uint64_t* step_seed_dev() const { return step_seed_dev_; }

  // True when an op producing from these inputs must record its backward.
  bool needs_grad(std::initializer_list<const Var*> inputs) const;
  void record(std::function<void()> backward) { tape_.push_back(std::move(backward)); }

  // d loss / d loss = 1, then every recorded closure in reverse order. The
  // tape (and the activations it holds) is released afterwards.
  void backward(const Var& loss);
  // Backward from any output with a given gradient (same shape and device).
  void backward(const Var& output, const Tensor& output_grad);

  // Gradient destination for `v` (allocates v->grad on first use).
  GradTarget grad_target(const Var& v);

 private:
  Context& ctx_;
  bool training_;
  uint64_t seed_;
  const uint64_t* step_seed_dev_;
  uint64_t seed_uses_ = 0;
  std::vector<std::function<void()>> tape_;
};

}  // namespace rotor
