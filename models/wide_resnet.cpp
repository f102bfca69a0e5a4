#include "models/wide_resnet.h"

#include <fmt/format.h>

#include "engine/context.h"
#include "engine/tensor_util.h"
#include "models/cost.h"

namespace rotor {

void wide_resnet_check(int64_t depth, int64_t widen) {
  ROTOR_CHECK(depth >= 10 && (depth - 4) % 6 == 0 && widen >= 1,
              "wrn-{}-{}: a wide ResNet has depth 6n+4 (16, 22, 28, 40) and width k >= 1", depth, widen);
}

static int64_t width_of(const BlockLive* live, const std::vector<int64_t> BlockLive::*list, int64_t full) {
  return live ? static_cast<int64_t>((live->*list).size()) : full;
}

WideBlock::WideBlock(Context& ctx, int64_t in_, int64_t out_, int64_t stride, Activation act, double dropout_,
                     const BlockLive* live)
    : bn1(add_module("bn1", std::make_unique<BatchNorm>(ctx, width_of(live, &BlockLive::in, in_), act))),
      conv1(add_module("conv1", std::make_unique<Conv2d>(ctx, width_of(live, &BlockLive::in, in_),
                                                         width_of(live, &BlockLive::mid, out_), 3, stride, 1))),
      bn2(add_module("bn2", std::make_unique<BatchNorm>(ctx, width_of(live, &BlockLive::mid, out_), act))),
      conv2(add_module("conv2", std::make_unique<Conv2d>(ctx, width_of(live, &BlockLive::mid, out_), out_, 3, 1, 1))),
      dropout(dropout_),
      in(in_),
      out(out_) {
  if (in != out || stride != 1)
    shortcut = &add_module(
        "shortcut", std::make_unique<Conv2d>(ctx, width_of(live, &BlockLive::in, in_), out, 1, stride, 0));
  if (!live) return;
  check_index_list(live->in, in, "wide block input channels");
  check_index_list(live->mid, out, "wide block conv1 filters");
  if (static_cast<int64_t>(live->in.size()) == in) return;
  Tensor host = Tensor::host({static_cast<int64_t>(live->in.size())}, DType::i32);
  for (size_t i = 0; i < live->in.size(); ++i) host.data<int32_t>()[i] = static_cast<int32_t>(live->in[i]);
  in_index = to_device(ctx, host, ctx.device());
}

Var WideBlock::forward(Graph& g, const Var& x) {
  Var o = bn1.forward(g, in_index.defined() ? select_channels(g, x, in_index) : x);
  Var branch = conv2.forward(g, rotor::dropout(g, bn2.forward(g, conv1.forward(g, o)), dropout));
  return add(g, branch, shortcut ? shortcut->forward(g, o) : x);
}

WideResNet::WideResNet(Context& ctx, const ModelSpec& spec, int64_t depth, int64_t widen)
    : Model(spec),
      stem_conv(add_module("stem_conv", std::make_unique<Conv2d>(ctx, spec.in_channels, 16, 3, 1, 1))),
      final_bn([&]() -> BatchNorm& {
        wide_resnet_check(depth, widen);
        const int64_t n = (depth - 4) / 6;
        const std::vector<BlockLive> live = spec.live.is_null()
                                                ? std::vector<BlockLive>{}
                                                : parse_block_live(spec.live, static_cast<size_t>(3 * n), false);
        int64_t width = 16;
        const int64_t widths[3] = {16 * widen, 32 * widen, 64 * widen};
        for (int group = 0; group < 3; ++group)
          for (int64_t b = 0; b < n; ++b) {
            const int64_t stride = (b == 0 && group > 0) ? 2 : 1;
            const std::string name = fmt::format("group{}.block{}", group + 1, b);
            const BlockLive* bl = live.empty() ? nullptr : &live[blocks.size()];
            blocks.push_back(&add_module(
                name, std::make_unique<WideBlock>(ctx, width, widths[group], stride, spec.act, spec.dropout, bl)));
            block_names.push_back(name);
            width = widths[group];
          }
        return add_module("final_bn", std::make_unique<BatchNorm>(ctx, width, Activation::relu));
      }()),
      fc(add_module("fc", std::make_unique<Linear>(ctx, 64 * widen, spec.classes, true, LinearInit::uniform))) {}

Var WideResNet::forward(Graph& g, const Var& x) {
  Var h = stem_conv.forward(g, x);
  for (WideBlock* b : blocks) h = b->forward(g, h);
  return fc.forward(g, global_avg_pool(g, final_bn.forward(g, h)));
}

std::vector<LayerCost> WideResNet::layer_costs() const {
  std::vector<LayerCost> rows;
  Spatial at = add_conv_cost(rows, "stem_conv", stem_conv, {spec().height, spec().width});
  for (size_t i = 0; i < blocks.size(); ++i) {
    const WideBlock& b = *blocks[i];
    const std::string& n = block_names[i];
    add_bn_cost(rows, n + ".bn1", b.bn1);
    const Spatial in = at;
    at = add_conv_cost(rows, n + ".conv1", b.conv1, in);
    add_bn_cost(rows, n + ".bn2", b.bn2);
    add_conv_cost(rows, n + ".conv2", b.conv2, at);
    if (b.shortcut) add_conv_cost(rows, n + ".shortcut", *b.shortcut, in);
    add_add_cost(rows, n + ".add", b.out, at);
  }
  add_bn_cost(rows, "final_bn", final_bn);
  add_linear_cost(rows, "fc", fc);
  return rows;
}

}  // namespace rotor
