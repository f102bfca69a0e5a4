#include "engine/module.h"

#include "engine/context.h"
#include "engine/tensor_util.h"

namespace rotor {

const char* param_group_name(ParamGroup g) {
  switch (g) {
    case ParamGroup::weights: return "weights";
    case ParamGroup::bn: return "bn";
    case ParamGroup::slopes: return "slopes";
    case ParamGroup::bias: return "bias";
  }
  return "?";
}

Parameter& Module::add_parameter(Context& ctx, const std::string& name, Tensor value, ParamGroup group) {
  auto p = std::make_unique<Parameter>();
  p->group = group;
  p->var = make_var(std::move(value), true);
  p->var->grad = Tensor::empty(ctx, p->var->value.device(), p->var->value.shape());
  fill(ctx, p->var->grad, 0.0f);
  p->var->accumulate = true;
  Parameter& ref = *p;
  params_.emplace_back(name, std::move(p));
  return ref;
}

Tensor& Module::add_buffer(const std::string& name, Tensor value) {
  buffers_.emplace_back(name, std::make_unique<Tensor>(std::move(value)));
  return *buffers_.back().second;
}

std::vector<std::pair<std::string, Parameter*>> Module::named_parameters() {
  std::vector<std::pair<std::string, Parameter*>> out;
  for (auto& [name, p] : params_) out.emplace_back(name, p.get());
  for (auto& [name, child] : children_)
    for (auto& [sub, p] : child->named_parameters()) out.emplace_back(name + "." + sub, p);
  return out;
}

std::vector<std::pair<std::string, Tensor*>> Module::named_buffers() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (auto& [name, b] : buffers_) out.emplace_back(name, b.get());
  for (auto& [name, child] : children_)
    for (auto& [sub, b] : child->named_buffers()) out.emplace_back(name + "." + sub, b);
  return out;
}

std::vector<Parameter*> Module::parameters() {
  std::vector<Parameter*> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

void zero_grad(Context& ctx, const std::vector<Parameter*>& params) {
  for (Parameter* p : params) fill(ctx, p->grad(), 0.0f);
}

}  // namespace rotor
