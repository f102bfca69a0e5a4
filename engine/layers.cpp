#include "engine/layers.h"

#include <cmath>

#include "engine/context.h"
#include "engine/init.h"
#include "engine/tensor_util.h"

namespace rotor {

const char* activation_name(Activation a) { return a == Activation::relu ? "relu" : "rrelu"; }

Activation parse_activation(const std::string& name) {
  if (name == "relu") return Activation::relu;
  if (name == "rrelu") return Activation::rrelu;
  fail("unknown activation '{}': expected relu or rrelu", name);
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

BatchNorm::BatchNorm(Context& ctx, int64_t channels, Then then_)
    : weight(add_parameter(ctx, "weight", filled(ctx, {channels}, 1.0f), ParamGroup::bn)),
      bias(add_parameter(ctx, "bias", filled(ctx, {channels}, 0.0f), ParamGroup::bn)),
      running_mean(add_buffer("running_mean", filled(ctx, {channels}, 0.0f))),
      running_var(add_buffer("running_var", filled(ctx, {channels}, 1.0f))),
      then(then_) {
  if (then == Then::rrelu) slope = &add_parameter(ctx, "slope", filled(ctx, {channels}, 1.0f), ParamGroup::slopes);
}

Var BatchNorm::forward(Graph& g, const Var& x) {
  if (then == Then::nothing) return batch_norm(g, x, weight.var, bias.var, running_mean, running_var, config);
  return bn_rrelu(g, x, weight.var, bias.var, slope ? slope->var : nullptr, running_mean, running_var, config);
}

BatchNorm::Then then_for(Activation a) {
  return a == Activation::relu ? BatchNorm::Then::relu : BatchNorm::Then::rrelu;
}

Act::Act(Context& ctx, int64_t channels, Activation kind) {
  if (kind == Activation::rrelu)
    slope = &add_parameter(ctx, "slope", filled(ctx, {channels}, 1.0f), ParamGroup::slopes);
}

Var Act::forward(Graph& g, const Var& x) { return slope ? rrelu(g, x, slope->var) : relu(g, x); }

}  // namespace rotor
