#include "models/wide_resnet.h"

#include <fmt/format.h>

namespace rotor {

void wide_resnet_check(int64_t depth, int64_t widen) {
  ROTOR_CHECK(depth >= 10 && (depth - 4) % 6 == 0 && widen >= 1,
              "wrn-{}-{}: a wide ResNet has depth 6n+4 (16, 22, 28, 40) and width k >= 1", depth, widen);
}

WideBlock::WideBlock(Context& ctx, int64_t in, int64_t out, int64_t stride, Activation act, double dropout_)
    : bn1(add_module("bn1", std::make_unique<BatchNorm>(ctx, in, then_for(act)))),
      conv1(add_module("conv1", std::make_unique<Conv2d>(ctx, in, out, 3, stride, 1))),
      bn2(add_module("bn2", std::make_unique<BatchNorm>(ctx, out, then_for(act)))),
      conv2(add_module("conv2", std::make_unique<Conv2d>(ctx, out, out, 3, 1, 1))),
      dropout(dropout_) {
  if (in != out || stride != 1) shortcut = &add_module("shortcut", std::make_unique<Conv2d>(ctx, in, out, 1, stride, 0));
}

Var WideBlock::forward(Graph& g, const Var& x) {
  Var o = bn1.forward(g, x);
  Var branch = conv2.forward(g, rotor::dropout(g, bn2.forward(g, conv1.forward(g, o)), dropout));
  return add(g, branch, shortcut ? shortcut->forward(g, o) : x);
}

WideResNet::WideResNet(Context& ctx, const ModelSpec& spec, int64_t depth, int64_t widen)
    : Model(spec),
      stem_conv(add_module("stem_conv", std::make_unique<Conv2d>(ctx, spec.in_channels, 16, 3, 1, 1))),
      final_bn([&]() -> BatchNorm& {
        wide_resnet_check(depth, widen);
        const int64_t n = (depth - 4) / 6;
        int64_t width = 16;
        const int64_t widths[3] = {16 * widen, 32 * widen, 64 * widen};
        for (int group = 0; group < 3; ++group)
          for (int64_t b = 0; b < n; ++b) {
            const int64_t stride = (b == 0 && group > 0) ? 2 : 1;
            blocks.push_back(&add_module(fmt::format("group{}.block{}", group + 1, b),
                                         std::make_unique<WideBlock>(ctx, width, widths[group], stride, spec.act,
                                                                     spec.dropout)));
            width = widths[group];
          }
        return add_module("final_bn", std::make_unique<BatchNorm>(ctx, width, BatchNorm::Then::relu));
      }()),
      fc(add_module("fc", std::make_unique<Linear>(ctx, 64 * widen, spec.classes, true, LinearInit::uniform))) {}

Var WideResNet::forward(Graph& g, const Var& x) {
  Var h = stem_conv.forward(g, x);
  for (WideBlock* b : blocks) h = b->forward(g, h);
  return fc.forward(g, global_avg_pool(g, final_bn.forward(g, h)));
}

}  // namespace rotor
