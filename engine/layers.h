// The layers models are built from. Each registers its parameters under
// PyTorch-like names (weight, bias, running_mean, running_var, slope).
#pragma once

#include <string>

#include "engine/module.h"
#include "engine/ops.h"

namespace rotor {

enum class Activation { relu, rrelu };
const char* activation_name(Activation a);
Activation parse_activation(const std::string& name);  // "relu" | "rrelu"

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
// followed by a ReLU or an RReLU (slope per channel, initialised to 1), fused
// into one op.
class BatchNorm : public Module {
 public:
  enum class Then { nothing, relu, rrelu };
  BatchNorm(Context& ctx, int64_t channels, Then then = Then::nothing);
  Var forward(Graph& g, const Var& x);
  Parameter& weight;
  Parameter& bias;
  Parameter* slope = nullptr;  // only with Then::rrelu
  Tensor& running_mean;
  Tensor& running_var;
  Then then;
  BatchNormConfig config;
};
BatchNorm::Then then_for(Activation a);

// A standalone ReLU or RReLU (the activation after a residual addition).
class Act : public Module {
 public:
  Act(Context& ctx, int64_t channels, Activation kind);
  Var forward(Graph& g, const Var& x);
  Parameter* slope = nullptr;  // only for rrelu
};

}  // namespace rotor
