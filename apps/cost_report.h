// Parameter and FLOP tables for rotor info and rotor prune.
#pragma once

#include <string>
#include <vector>

#include "engine/json.h"
#include "models/model.h"

namespace rotor {

struct CostTotals {
  int64_t params = 0, flops = 0, slopes = 0;
};
CostTotals totals(const std::vector<LayerCost>& rows);

// "81.19 M", "269,722"
std::string with_commas(int64_t v);
std::string mega(int64_t v);

// The per-layer table of one model.
std::string cost_table(const std::vector<LayerCost>& rows);
// Before/after per layer (matched by name), conv and linear layers only.
std::string filter_table(const std::vector<LayerCost>& before, const std::vector<LayerCost>& after);
Json filter_json(const std::vector<LayerCost>& before, const std::vector<LayerCost>& after);

}  // namespace rotor
