// The distribution of a model's RReLU slopes: what the demo prints after
// training and what pruning acts on (|b| under a threshold = dead channel).
#pragma once

#include <string>
#include <vector>

#include "engine/json.h"
#include "models/model.h"

namespace rotor {

struct SlopeSummary {
  int64_t count = 0, negative = 0;
  double min = 0, q1 = 0, median = 0, q3 = 0, max = 0;  // of |b|
  std::vector<std::pair<double, int64_t>> under;        // (threshold, how many |b| < threshold)

  Json to_json() const;
  std::string describe() const;  // a few lines for the terminal
};

// Every slope of the model (host copy), in network order.
std::vector<float> all_slopes(Context& ctx, Model& model);
SlopeSummary summarize_slopes(const std::vector<float>& slopes,
                              const std::vector<double>& thresholds = {0.01, 0.05, 0.1});

}  // namespace rotor
