#include "models/fcnn.h"

#include "models/cost.h"

namespace rotor {

Fcnn::Fcnn(Context& ctx, const ModelSpec& spec, int64_t hidden)
    : Model(spec),
      fc1_(add_module("fc1", std::make_unique<Linear>(ctx, spec.in_channels * spec.height * spec.width, hidden,
                                                      false, LinearInit::kaiming_normal))),
      bn1_(add_module("bn1", std::make_unique<BatchNorm>(ctx, hidden, spec.act))),
      fc2_(add_module("fc2", std::make_unique<Linear>(ctx, hidden, spec.classes, true, LinearInit::uniform))) {}

Var Fcnn::forward(Graph& g, const Var& x) {
  return fc2_.forward(g, bn1_.forward(g, fc1_.forward(g, flatten(g, x))));
}

}  // namespace rotor

namespace rotor {

std::vector<LayerCost> Fcnn::layer_costs() const {
  std::vector<LayerCost> rows;
  add_linear_cost(rows, "fc1", fc1_);
  add_bn_cost(rows, "bn1", bn1_);
  add_linear_cost(rows, "fc2", fc2_);
  return rows;
}

}  // namespace rotor
