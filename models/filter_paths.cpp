#include "models/filter_paths.h"

#include "models/resnet.h"
#include "models/wide_resnet.h"

namespace rotor {

static int64_t filters_of(const Conv2d& c) { return c.weight.var->value.size(0); }

std::vector<BlockFilters> block_filters(const Model& model) {
  std::vector<BlockFilters> out;
  if (const auto* r = dynamic_cast<const ResNet*>(&model)) {
    for (const BasicBlock* b : r->blocks) out.push_back({filters_of(b->conv1) + filters_of(b->conv2), 0});
    return out;
  }
  if (const auto* w = dynamic_cast<const WideResNet*>(&model)) {
    for (const WideBlock* b : w->blocks)
      out.push_back({filters_of(b->conv1) + filters_of(b->conv2), b->shortcut ? filters_of(*b->shortcut) : 0});
    return out;
  }
  fail("filter paths: {} is not a residual network", model.spec().arch);
}

std::vector<double> path_length_distribution(const std::vector<BlockFilters>& blocks) {
  std::vector<double> dist = {1.0};
  for (const BlockFilters& b : blocks) {
    std::vector<double> next(dist.size() + static_cast<size_t>(std::max(b.pass, b.skip)), 0.0);
    for (size_t l = 0; l < dist.size(); ++l) {
      next[l + static_cast<size_t>(b.skip)] += 0.5 * dist[l];
      next[l + static_cast<size_t>(b.pass)] += 0.5 * dist[l];
    }
    while (next.size() > 1 && next.back() == 0.0) next.pop_back();
    dist.swap(next);
  }
  return dist;
}

}  // namespace rotor
