// The layers models are built from. Each registers its parameters under
// PyTorch-like names (weight, bias, running_mean, running_var, slope).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/module.h"
#include "engine/ops.h"

namespace rotor {

// The activations a model can use (--act). Each value has one description,
// activation_info() in layers.cpp, and everything else reads it: the names
// in --act, --help, model files and run folders, BatchNorm's fusion, the
// Act layer, the cost rows. activation_info() is a switch without a default,
// and the build treats -Wswitch as an error: a value added here without its
// case there does not compile.
enum class Activation { relu, rrelu };

struct ActivationInfo {
  const char* name;    // in --act, model files and run folder names
  bool has_slope;      // one trainable slope per channel (ParamGroup::slopes): prunable
  bool fuses_into_bn;  // BatchNorm runs it inside bn_rrelu (b = slope, or 1 without one)
  // The op; slope is empty unless has_slope.
  Var (*apply)(Graph& g, const Var& x, const Var& slope);
};

ActivationInfo activation_info(Activation a);
const char* activation_name(Activation a);
std::vector<Activation> all_activations();             // in declaration order
std::string activation_choices();                       // "relu|rrelu", for --help
Activation parse_activation(const std::string& name);  // throws naming the choices

enum class LinearInit {
  kaiming_normal,  // N(0, 2/in): hidden layers followed by an activation
  uniform,         // U(+-1/sqrt(in)) for weight and bias: PyTorch's default, for classifiers
};

class Linear : public Module {
 public:
  Linear(Context& ctx, int64_t in, int64_t out, bool with_bias, LinearInit init);
  Var forward(Graph& g, const Var& x);
  Parameter& weight;
  Parameter* bias = nullptr;
};

// Kaiming-normal initialised, no bias (a batch norm follows).
class Conv2d : public Module {
 public:
  Conv2d(Context& ctx, int64_t c_in, int64_t c_out, int64_t kernel, int64_t stride, int64_t pad);
  Var forward(Graph& g, const Var& x);
  Parameter& weight;
  int64_t stride, pad;
};

// Batch norm (gamma = 1, beta = 0, running mean 0 and variance 1), optionally
// followed by an activation (a slope per channel, initialised to 1, when it
// has one). ReLU and RReLU are fused with the batch norm into one op; any
// other activation runs after it.
class BatchNorm : public Module {
 public:
  BatchNorm(Context& ctx, int64_t channels, std::optional<Activation> then = std::nullopt);
  Var forward(Graph& g, const Var& x);
  Parameter& weight;
  Parameter& bias;
  Parameter* slope = nullptr;  // only when `then` has a slope
  Tensor& running_mean;
  Tensor& running_var;
  std::optional<Activation> then;
  BatchNormConfig config;
};

// A standalone activation (the one after a residual addition).
class Act : public Module {
 public:
  Act(Context& ctx, int64_t channels, Activation kind);
  Var forward(Graph& g, const Var& x);
  Activation kind;
  Parameter* slope = nullptr;  // only when `kind` has a slope
};

// The tail of a ResNet basic block, act(bn(x) + residual): one op,
// bn_add_act, when the activation fuses into batch norm (the same numbers
// in fewer passes, the residual's gradient written in place), else
// batch_norm, add and the activation. `bn` has no activation of its own.
// The modules and their parameters are the same either way, so everything
// that walks them (files, pruning, export, cost rows) sees no difference.
Var residual_tail(Graph& g, BatchNorm& bn, const Var& x, const Var& residual, Act& act);

}  // namespace rotor
