#include "models/resnet.h"

#include <fmt/format.h>

#include "engine/context.h"
#include "engine/tensor_util.h"
#include "models/cost.h"

namespace rotor {

ResNetConfig resnet_config(int64_t depth) {
  ROTOR_CHECK(depth >= 8 && (depth - 2) % 6 == 0,
              "resnet{}: the depth of a CIFAR ResNet is 6n+2 (20, 32, 44, 56, 110)", depth);
  const int64_t n = (depth - 2) / 6;
  return {16, {{16, n, 1}, {32, n, 2}, {64, n, 2}}};
}

// An int32 index tensor on the context's device, or an undefined tensor when
// the list is all of [0, width) (no gather needed).
static Tensor index_or_all(Context& ctx, const std::vector<int64_t>& list, int64_t width) {
  if (static_cast<int64_t>(list.size()) == width) return {};
  Tensor host = Tensor::host({static_cast<int64_t>(list.size())}, DType::i32);
  for (size_t i = 0; i < list.size(); ++i) host.data<int32_t>()[i] = static_cast<int32_t>(list[i]);
  return to_device(ctx, host, ctx.device());
}

static int64_t width_of(const BlockLive* live, const std::vector<int64_t> BlockLive::*list, int64_t full) {
  return live ? static_cast<int64_t>((live->*list).size()) : full;
}

BasicBlock::BasicBlock(Context& ctx, int64_t in_, int64_t out_, int64_t stride_, Activation a, const BlockLive* live)
    : conv1(add_module("conv1", std::make_unique<Conv2d>(ctx, width_of(live, &BlockLive::in, in_),
                                                         width_of(live, &BlockLive::mid, out_), 3, stride_, 1))),
      bn1(add_module("bn1", std::make_unique<BatchNorm>(ctx, width_of(live, &BlockLive::mid, out_), a))),
      conv2(add_module("conv2", std::make_unique<Conv2d>(ctx, width_of(live, &BlockLive::mid, out_),
                                                         width_of(live, &BlockLive::out, out_), 3, 1, 1))),
      bn2(add_module("bn2", std::make_unique<BatchNorm>(ctx, width_of(live, &BlockLive::out, out_)))),
      act(add_module("act", std::make_unique<Act>(ctx, out_, a))),
      in(in_),
      out(out_),
      stride(stride_) {
  if (!live) return;
  check_index_list(live->in, in, "block input channels");
  check_index_list(live->mid, out, "block conv1 filters");
  check_index_list(live->out, out, "block conv2 filters");
  in_index = index_or_all(ctx, live->in, in);
  out_index = index_or_all(ctx, live->out, out);
}

Var BasicBlock::forward(Graph& g, const Var& x) {
  const Var x_in = in_index.defined() ? select_channels(g, x, in_index) : x;
  Var pre_bn = conv2.forward(g, bn1.forward(g, conv1.forward(g, x_in)));
  Var shortcut = (stride != 1 || in != out) ? shortcut_a(g, x, out, stride) : x;
  // All output channels live: batch norm + add + activation as one op.
  if (!out_index.defined()) return residual_tail(g, bn2, pre_bn, shortcut, act);
  // A pruned block's branch adds into a subset of the shortcut's channels.
  return act.forward(g, add_into_channels(g, shortcut, bn2.forward(g, pre_bn), out_index));
}

ResNet::ResNet(Context& ctx, const ModelSpec& spec, const ResNetConfig& config)
    : Model(spec),
      stem_conv(add_module("stem_conv", std::make_unique<Conv2d>(ctx, spec.in_channels, config.stem, 3, 1, 1))),
      stem_bn(add_module("stem_bn", std::make_unique<BatchNorm>(ctx, config.stem, Activation::relu))),
      fc([&]() -> Linear& {
        size_t total = 0;
        for (const ResNetStage& st : config.stages) total += static_cast<size_t>(st.blocks);
        const std::vector<BlockLive> live =
            spec.live.is_null() ? std::vector<BlockLive>{} : parse_block_live(spec.live, total, true);
        int64_t width = config.stem;
        for (size_t s = 0; s < config.stages.size(); ++s) {
          const ResNetStage& st = config.stages[s];
          for (int64_t b = 0; b < st.blocks; ++b) {
            const std::string name = fmt::format("stage{}.block{}", s + 1, b);
            const BlockLive* bl = live.empty() ? nullptr : &live[blocks.size()];
            blocks.push_back(&add_module(
                name, std::make_unique<BasicBlock>(ctx, width, st.width, b == 0 ? st.stride : 1, spec.act, bl)));
            block_names.push_back(name);
            width = st.width;
          }
        }
        return add_module("fc", std::make_unique<Linear>(ctx, width, spec.classes, true, LinearInit::uniform));
      }()) {}

Var ResNet::forward(Graph& g, const Var& x) {
  Var h = stem_bn.forward(g, stem_conv.forward(g, x));
  for (BasicBlock* b : blocks) h = b->forward(g, h);
  return fc.forward(g, global_avg_pool(g, h));
}

std::vector<LayerCost> ResNet::layer_costs() const {
  std::vector<LayerCost> rows;
  Spatial at = add_conv_cost(rows, "stem_conv", stem_conv, {spec().height, spec().width});
  add_bn_cost(rows, "stem_bn", stem_bn);
  for (size_t i = 0; i < blocks.size(); ++i) {
    const BasicBlock& b = *blocks[i];
    const std::string& n = block_names[i];
    at = add_conv_cost(rows, n + ".conv1", b.conv1, at);
    add_bn_cost(rows, n + ".bn1", b.bn1);
    add_conv_cost(rows, n + ".conv2", b.conv2, at);
    add_bn_cost(rows, n + ".bn2", b.bn2);
    add_add_cost(rows, n + ".add", b.bn2.weight.var->value.numel(), at);  // the channels the branch adds
    add_act_cost(rows, n + ".act", b.act, b.out);
  }
  add_linear_cost(rows, "fc", fc);
  return rows;
}

}  // namespace rotor
