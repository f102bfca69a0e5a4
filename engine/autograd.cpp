#include "engine/autograd.h"

#include "engine/context.h"
#include "engine/tensor_util.h"

namespace rotor {

Var make_var(Tensor value, bool requires_grad) {
  auto v = std::make_shared<Variable>();
  v->value = std::move(value);
  v->requires_grad = requires_grad;
  return v;
}

bool Graph::needs_grad(std::initializer_list<const Var*> inputs) const {
  if (!training_) return false;
  for (const Var* v : inputs)
    if (v && *v && (*v)->requires_grad) return true;
  return false;
}

GradTarget Graph::grad_target(const Var& v) {
  if (!v || !v->requires_grad) return {};
  if (!v->grad.defined()) v->grad = Tensor::empty(ctx_, v->value.device(), v->value.shape());
  GradTarget t{v->grad.f32(), v->accumulate ? GradMode::accumulate : GradMode::assign};
  v->accumulate = true;
  return t;
}

void Graph::backward(const Var& loss) {
  ROTOR_CHECK(loss->value.numel() == 1, "backward needs a scalar loss, got shape {}",
              shape_str(loss->value.shape()));
  Tensor one = Tensor::empty(ctx_, loss->value.device(), loss->value.shape());
  fill(ctx_, one, 1.0f);
  backward(loss, one);
}

void Graph::backward(const Var& output, const Tensor& output_grad) {
  ROTOR_CHECK(training_, "backward on an evaluation graph");
  ROTOR_CHECK(output_grad.same_shape(output->value) && output_grad.device() == output->value.device(),
              "backward: gradient of shape {} for an output of shape {}", shape_str(output_grad.shape()),
              shape_str(output->value.shape()));
  output->grad = output_grad;
  output->accumulate = true;
  for (auto it = tape_.rbegin(); it != tape_.rend(); ++it) (*it)();
  tape_.clear();
}

}  // namespace rotor
