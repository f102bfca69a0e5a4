#include "engine/layers.h"

#include <cmath>

#include "engine/context.h"
#include "engine/init.h"
#include "engine/tensor_util.h"

namespace rotor {

// The one description of each activation. No default case: with
// -Werror=switch a new Activation value without its row is a compile error.
static std::optional<ActivationInfo> find_activation(Activation a) {
  switch (a) {
    case Activation::relu:
      return ActivationInfo{"relu", false, true, [](Graph& g, const Var& x, const Var&) { return relu(g, x); }};
    case Activation::rrelu:
      return ActivationInfo{"rrelu", true, true, [](Graph& g, const Var& x, const Var& s) { return rrelu(g, x, s); }};
  }
  return std::nullopt;  // a number past the last value (all_activations counts with it)
}

ActivationInfo activation_info(Activation a) {
  const std::optional<ActivationInfo> info = find_activation(a);
  ROTOR_CHECK(info, "activation number {} does not exist", static_cast<int>(a));
  return *info;
}

const char* activation_name(Activation a) { return activation_info(a).name; }

std::vector<Activation> all_activations() {
  std::vector<Activation> all;
  for (int i = 0; find_activation(static_cast<Activation>(i)); ++i) all.push_back(static_cast<Activation>(i));
  return all;
}

std::string activation_choices() {
  std::string out;
  for (Activation a : all_activations()) {
    if (!out.empty()) out += '|';
    out += activation_name(a);
  }
  return out;
}

Activation parse_activation(const std::string& name) {
  for (Activation a : all_activations())
    if (name == activation_name(a)) return a;
  fail("unknown activation '{}': expected one of {}", name, activation_choices());
}

static Tensor filled(Context& ctx, const Shape& shape, float value) {
  Tensor t = Tensor::empty(ctx, shape);
  fill(ctx, t, value);
  return t;
}

Linear::Linear(Context& ctx, int64_t in, int64_t out, bool with_bias, LinearInit init)
    : weight(add_parameter(ctx, "weight", Tensor::empty(ctx, {out, in}), ParamGroup::weights)) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  if (init == LinearInit::kaiming_normal)
    init_kaiming_normal(ctx, weight.value(), in);
  else
    init_uniform(ctx, weight.value(), bound);
  if (with_bias) {
    bias = &add_parameter(ctx, "bias", Tensor::empty(ctx, {out}), ParamGroup::bias);
    if (init == LinearInit::uniform)
      init_uniform(ctx, bias->value(), bound);
    else
      fill(ctx, bias->value(), 0.0f);
  }
}

Var Linear::forward(Graph& g, const Var& x) { return linear(g, x, weight.var, bias ? bias->var : nullptr); }

Conv2d::Conv2d(Context& ctx, int64_t c_in, int64_t c_out, int64_t kernel, int64_t stride_, int64_t pad_)
    : weight(add_parameter(ctx, "weight", Tensor::empty(ctx, {c_out, c_in, kernel, kernel}), ParamGroup::weights)),
      stride(stride_),
      pad(pad_) {
  init_kaiming_normal(ctx, weight.value(), c_in * kernel * kernel);
}

Var Conv2d::forward(Graph& g, const Var& x) { return conv2d(g, x, weight.var, stride, pad); }

BatchNorm::BatchNorm(Context& ctx, int64_t channels, std::optional<Activation> then_)
    : weight(add_parameter(ctx, "weight", filled(ctx, {channels}, 1.0f), ParamGroup::bn)),
      bias(add_parameter(ctx, "bias", filled(ctx, {channels}, 0.0f), ParamGroup::bn)),
      running_mean(add_buffer("running_mean", filled(ctx, {channels}, 0.0f))),
      running_var(add_buffer("running_var", filled(ctx, {channels}, 1.0f))),
      then(then_) {
  if (then && activation_info(*then).has_slope)
    slope = &add_parameter(ctx, "slope", filled(ctx, {channels}, 1.0f), ParamGroup::slopes);
}

Var BatchNorm::forward(Graph& g, const Var& x) {
  const Var s = slope ? slope->var : nullptr;
  if (then && activation_info(*then).fuses_into_bn)
    return bn_rrelu(g, x, weight.var, bias.var, s, running_mean, running_var, config);
  Var y = batch_norm(g, x, weight.var, bias.var, running_mean, running_var, config);
  return then ? activation_info(*then).apply(g, y, s) : y;
}

Act::Act(Context& ctx, int64_t channels, Activation kind_) : kind(kind_) {
  if (activation_info(kind).has_slope)
    slope = &add_parameter(ctx, "slope", filled(ctx, {channels}, 1.0f), ParamGroup::slopes);
}

Var Act::forward(Graph& g, const Var& x) { return activation_info(kind).apply(g, x, slope ? slope->var : nullptr); }

Var residual_tail(Graph& g, BatchNorm& bn, const Var& x, const Var& residual, Act& act) {
  ROTOR_CHECK(!bn.then, "residual_tail: the batch norm must not apply an activation of its own");
  const Var slope = act.slope ? act.slope->var : nullptr;
  if (activation_info(act.kind).fuses_into_bn)
    return bn_add_act(g, x, residual, bn.weight.var, bn.bias.var, slope, bn.running_mean, bn.running_var, bn.config);
  return act.forward(g, add(g, bn.forward(g, x), residual));
}

}  // namespace rotor
