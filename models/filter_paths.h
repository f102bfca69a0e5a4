// Filter-path lengths of a residual network (the paper's Fig. 6).
//
// A network of B residual blocks is an ensemble of 2^B paths: along a path
// each block is either skipped or passed through. Passing through a block
// counts the live filters of its weighted branch (conv1 + conv2 filters);
// skipping counts 0 — or, in a wide-ResNet block with a 1x1 projection
// shortcut, that conv's filters, since the skip path runs through it. The
// length of a path is the sum over blocks, and its distribution over all
// 2^B equally likely paths is the convolution of the per-block two-point
// distributions: computed exactly in O(B * max length), never by
// enumerating paths.
#pragma once

#include <cstdint>
#include <vector>

#include "models/model.h"

namespace rotor {

struct BlockFilters {
  int64_t pass = 0;  // live filters along the weighted branch
  int64_t skip = 0;  // filters along the shortcut (0 for identity/option A)
};

// Per residual block of a ResNet or wide ResNet (throws for other models).
std::vector<BlockFilters> block_filters(const Model& model);

// probability[L] = fraction of the 2^B paths whose length is L.
std::vector<double> path_length_distribution(const std::vector<BlockFilters>& blocks);

}  // namespace rotor
