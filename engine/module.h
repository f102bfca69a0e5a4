// Module and Parameter: named, grouped trainable tensors and buffers.
//
// A Module owns its parameters, its buffers (batch-norm running statistics)
// and its child modules, each under a name; named_parameters() yields dotted
// paths ("stage1.block0.conv1.weight") used by checkpoints, the optimizer's
// groups and the pruner. Training or evaluation is a property of the Graph a
// forward runs on, not of the module.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/autograd.h"

namespace rotor {

// Optimizer groups: each has its own weight decay (the slopes' decay is a
// separate setting of the method) and can be frozen on its own.
enum class ParamGroup { weights, bn, slopes, bias };
constexpr int param_group_count = 4;
const char* param_group_name(ParamGroup g);

struct Parameter {
  ParamGroup group = ParamGroup::weights;
  Var var;  // var->value is the tensor, var->grad its accumulated gradient

  Tensor& value() { return var->value; }
  Tensor& grad() { return var->grad; }
  bool trainable() const { return var->requires_grad; }
  // A frozen parameter receives no gradient and is not updated.
  void set_trainable(bool on) { var->requires_grad = on; }
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  std::vector<std::pair<std::string, Parameter*>> named_parameters();
  std::vector<std::pair<std::string, Tensor*>> named_buffers();
  std::vector<Parameter*> parameters();

 protected:
  // Registers a parameter; its gradient is allocated and zeroed now and
  // accumulates from then on.
  Parameter& add_parameter(Context& ctx, const std::string& name, Tensor value, ParamGroup group);
  Tensor& add_buffer(const std::string& name, Tensor value);
  template <class M>
  M& add_module(const std::string& name, std::unique_ptr<M> module) {
    M& ref = *module;
    children_.emplace_back(name, std::move(module));
    return ref;
  }

 private:
  std::vector<std::pair<std::string, std::unique_ptr<Parameter>>> params_;
  std::vector<std::pair<std::string, std::unique_ptr<Tensor>>> buffers_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
};

// Sets every parameter gradient to zero.
void zero_grad(Context& ctx, const std::vector<Parameter*>& params);

}  // namespace rotor
