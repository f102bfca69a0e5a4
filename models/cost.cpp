#include "models/cost.h"

#include <fmt/format.h>

namespace rotor {

Spatial add_conv_cost(std::vector<LayerCost>& rows, const std::string& name, const Conv2d& conv, Spatial in) {
  const Shape& w = conv.weight.var->value.shape();  // (C_out, C_in, K, K)
  const int64_t c_out = w[0], c_in = w[1], k = w[2];
  const Spatial out{(in.h + 2 * conv.pad - k) / conv.stride + 1, (in.w + 2 * conv.pad - k) / conv.stride + 1};
  LayerCost r;
  r.name = name;
  r.kind = "conv";
  r.shape = fmt::format("{}->{} {}x{}{} @{}x{}", c_in, c_out, k, k, conv.stride > 1 ? fmt::format(" /{}", conv.stride) : "",
                        out.h, out.w);
  r.params = c_out * c_in * k * k;
  r.flops = 2 * c_in * k * k * out.h * out.w * c_out;
  r.filters = c_out;
  rows.push_back(r);
  return out;
}

void add_bn_cost(std::vector<LayerCost>& rows, const std::string& name, const BatchNorm& bn) {
  LayerCost r;
  r.name = name;
  r.kind = "bn";
  const int64_t c = bn.weight.var->value.numel();
  r.shape = bn.then ? fmt::format("{} +{}", c, activation_name(*bn.then)) : fmt::format("{}", c);
  r.params = 2 * c;
  r.slopes = bn.slope ? c : 0;
  rows.push_back(r);
}

void add_act_cost(std::vector<LayerCost>& rows, const std::string& name, const Act& act, int64_t channels) {
  LayerCost r;
  r.name = name;
  r.kind = "act";
  r.shape = fmt::format("{} {}", channels, activation_name(act.kind));
  r.slopes = act.slope ? channels : 0;
  rows.push_back(r);
}

void add_add_cost(std::vector<LayerCost>& rows, const std::string& name, int64_t channels, Spatial at) {
  LayerCost r;
  r.name = name;
  r.kind = "add";
  r.shape = fmt::format("{} @{}x{}", channels, at.h, at.w);
  r.flops = channels * at.h * at.w;
  rows.push_back(r);
}

void add_linear_cost(std::vector<LayerCost>& rows, const std::string& name, const Linear& fc) {
  const Shape& w = fc.weight.var->value.shape();  // (out, in)
  LayerCost r;
  r.name = name;
  r.kind = "linear";
  r.shape = fmt::format("{}->{}", w[1], w[0]);
  r.params = w[0] * w[1] + (fc.bias ? w[0] : 0);
  r.flops = 2 * w[0] * w[1];
  r.filters = w[0];
  rows.push_back(r);
}

}  // namespace rotor
