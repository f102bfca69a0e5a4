// CIFAR ResNets (He et al. 2016, section 4.2) with RReLU placed as in the
// paper: stem conv 3x3 -> BN -> ReLU (plain), then stages of post-activation
// basic blocks
//
//   x -> conv1 -> BN+RReLU -> conv2 -> BN -> (+ shortcut(x)) -> RReLU
//
// with the option-A shortcut (stride-2 subsample, zero channel padding)
// where the width or resolution changes, then global average pooling and a
// linear classifier. resnet<6n+2> has three stages of n blocks, widths
// 16/32/64, strides 1/2/2.
//
// A pruned ResNet (spec.live, see live_channels.h) keeps the residual
// stream's width; a block then reads only the live stream channels
// (select_channels) and adds its narrower branch into the stream channels
// its surviving conv2 filters produce (add_into_channels).
#pragma once

#include <vector>

#include "models/live_channels.h"
#include "models/model.h"

namespace rotor {

struct ResNetStage {
  int64_t width, blocks, stride;
};

struct ResNetConfig {
  int64_t stem = 16;
  std::vector<ResNetStage> stages;
};

// resnet20 -> n = 3, ...; throws unless depth = 6n + 2 with n >= 1.
ResNetConfig resnet_config(int64_t depth);

class BasicBlock : public Module {
 public:
  // in/out: widths of the residual stream before and after the block.
  // live: the surviving channels of a pruned block (nullptr: all of them).
  BasicBlock(Context& ctx, int64_t in, int64_t out, int64_t stride, Activation act, const BlockLive* live);
  Var forward(Graph& g, const Var& x);

  Conv2d& conv1;
  BatchNorm& bn1;  // BN + ReLU/RReLU (slope "bn1.slope")
  Conv2d& conv2;
  BatchNorm& bn2;  // BN only; the activation follows the addition
  Act& act;        // post-addition ReLU/RReLU over the whole stream ("act.slope")
  int64_t in, out, stride;
  Tensor in_index, out_index;  // int32 on the device; undefined when every channel is used
};

class ResNet : public Model {
 public:
  ResNet(Context& ctx, const ModelSpec& spec, const ResNetConfig& config);
  Var forward(Graph& g, const Var& x) override;
  std::string classifier_name() const override { return "fc"; }
  std::vector<LayerCost> layer_costs() const override;

  Conv2d& stem_conv;
  BatchNorm& stem_bn;  // BN + plain ReLU
  std::vector<BasicBlock*> blocks;
  std::vector<std::string> block_names;
  Linear& fc;
};

}  // namespace rotor
