// The surviving channels of a pruned network, as stored in ModelSpec::live.
//
//   FCNN        arch "fcnn-<K>", live {"hidden": [original neuron indices]}
//   ResNet      live {"blocks": [{"in": [...], "mid": [...], "out": [...]}, ...]}
//               in:  residual-stream channels conv1 reads
//               mid: surviving conv1 filters (indices in the original network)
//               out: residual-stream channels conv2 writes (its filters)
//   WideResNet  live {"blocks": [{"in": [...], "mid": [...]}, ...]}
//               in:  stream channels of the block's BN+RReLU (and conv1 and
//                    the 1x1 shortcut's inputs); mid: surviving conv1 filters
// The residual stream keeps its width: a dead stream channel is simply
// never read (and, in a ResNet, never written) by the blocks after it.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/json.h"

namespace rotor {

struct BlockLive {
  std::vector<int64_t> in, mid, out;  // out: ResNet only
};

// Parses live["blocks"]; checks the count and that each list strictly
// increases within [0, width). Throws naming the block and the list.
std::vector<BlockLive> parse_block_live(const Json& live, size_t blocks, bool has_out);
Json block_live_json(const std::vector<BlockLive>& blocks, bool has_out);
void check_index_list(const std::vector<int64_t>& list, int64_t width, const std::string& what);

}  // namespace rotor
