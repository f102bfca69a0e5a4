// Wide ResNets (Zagoruyko & Komodakis 2016) with RReLU placed as in the
// paper: pre-activation wide blocks
//
//   x -> BN+RReLU -> conv1 (stride) -> BN+RReLU -> dropout -> conv2 -> (+ shortcut)
//
// where the shortcut is x itself, or a 1x1 conv (stride) of the activated x
// where width or stride changes; stem conv 3x3 to 16, three groups of n
// blocks (widths 16k/32k/64k, strides 1/2/2), then a final BN + plain ReLU,
// global average pooling and a linear classifier. wrn-<6n+4>-<k>.
//
// A pruned block (spec.live) applies its first BN+RReLU to the live stream
// channels only (select_channels); conv1 and the 1x1 shortcut read those,
// conv1 keeps its surviving filters, and conv2 writes the whole stream.
#pragma once

#include <vector>

#include "models/live_channels.h"
#include "models/model.h"

namespace rotor {

// Throws unless depth = 6n + 4 (n >= 1) and widen >= 1.
void wide_resnet_check(int64_t depth, int64_t widen);

class WideBlock : public Module {
 public:
  WideBlock(Context& ctx, int64_t in, int64_t out, int64_t stride, Activation act, double dropout,
            const BlockLive* live);
  Var forward(Graph& g, const Var& x);

  BatchNorm& bn1;  // on the block input (its live channels)
  Conv2d& conv1;
  BatchNorm& bn2;  // on conv1's output
  Conv2d& conv2;
  Conv2d* shortcut = nullptr;  // 1x1, where width or stride changes
  double dropout;
  int64_t in, out;
  Tensor in_index;  // int32 on the device; undefined when every channel is used
};

class WideResNet : public Model {
 public:
  WideResNet(Context& ctx, const ModelSpec& spec, int64_t depth, int64_t widen);
  Var forward(Graph& g, const Var& x) override;
  std::string classifier_name() const override { return "fc"; }
  std::vector<LayerCost> layer_costs() const override;

  Conv2d& stem_conv;
  std::vector<WideBlock*> blocks;
  std::vector<std::string> block_names;
  BatchNorm& final_bn;  // BN + plain ReLU before pooling
  Linear& fc;
};

}  // namespace rotor
