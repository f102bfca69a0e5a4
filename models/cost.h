// Helpers the models use to fill in their LayerCost rows.
#pragma once

#include <string>

#include "engine/layers.h"
#include "models/model.h"

namespace rotor {

struct Spatial {
  int64_t h, w;
};

// Appends the conv's row and returns its output size.
Spatial add_conv_cost(std::vector<LayerCost>& rows, const std::string& name, const Conv2d& conv, Spatial in);
void add_bn_cost(std::vector<LayerCost>& rows, const std::string& name, const BatchNorm& bn);
void add_act_cost(std::vector<LayerCost>& rows, const std::string& name, const Act& act, int64_t channels);
void add_add_cost(std::vector<LayerCost>& rows, const std::string& name, int64_t channels, Spatial at);
void add_linear_cost(std::vector<LayerCost>& rows, const std::string& name, const Linear& fc);

}  // namespace rotor
