// FCNN: flatten -> linear (in -> hidden, no bias) -> BN1d + ReLU/RReLU ->
// linear (hidden -> classes). "fcnn" is the paper's 784-500-10 on MNIST-like
// data (the input size comes from the data set); "fcnn-H" sets the width.
#pragma once

#include "models/model.h"

namespace rotor {

class Fcnn : public Model {
 public:
  Fcnn(Context& ctx, const ModelSpec& spec, int64_t hidden);
  Var forward(Graph& g, const Var& x) override;
  std::string classifier_name() const override { return "fc2"; }
  std::vector<LayerCost> layer_costs() const override;
  // The layers, for walking the network outside it (the ONNX exporter).
  const Linear& fc1() const { return fc1_; }
  const BatchNorm& bn1() const { return bn1_; }
  const Linear& fc2() const { return fc2_; }

 private:
  Linear& fc1_;
  BatchNorm& bn1_;
  Linear& fc2_;
};

}  // namespace rotor
