#include "models/resnet.h"

#include <fmt/format.h>

namespace rotor {

ResNetConfig resnet_config(int64_t depth) {
  ROTOR_CHECK(depth >= 8 && (depth - 2) % 6 == 0, "resnet{}: the depth of a CIFAR ResNet is 6n+2 (20, 32, 44, 56, 110)",
              depth);
  const int64_t n = (depth - 2) / 6;
  return {16, {{16, n, 1}, {32, n, 2}, {64, n, 2}}};
}

BasicBlock::BasicBlock(Context& ctx, int64_t in_, int64_t out_, int64_t stride_, Activation a)
    : conv1(add_module("conv1", std::make_unique<Conv2d>(ctx, in_, out_, 3, stride_, 1))),
      bn1(add_module("bn1", std::make_unique<BatchNorm>(ctx, out_, then_for(a)))),
      conv2(add_module("conv2", std::make_unique<Conv2d>(ctx, out_, out_, 3, 1, 1))),
      bn2(add_module("bn2", std::make_unique<BatchNorm>(ctx, out_))),
      act(add_module("act", std::make_unique<Act>(ctx, out_, a))),
      in(in_),
      out(out_),
      stride(stride_) {}

Var BasicBlock::forward(Graph& g, const Var& x) {
  Var branch = bn2.forward(g, conv2.forward(g, bn1.forward(g, conv1.forward(g, x))));
  Var shortcut = (stride != 1 || in != out) ? shortcut_a(g, x, out, stride) : x;
  return act.forward(g, add(g, branch, shortcut));
}

ResNet::ResNet(Context& ctx, const ModelSpec& spec, const ResNetConfig& config)
    : Model(spec),
      stem_conv(add_module("stem_conv", std::make_unique<Conv2d>(ctx, spec.in_channels, config.stem, 3, 1, 1))),
      stem_bn(add_module("stem_bn", std::make_unique<BatchNorm>(ctx, config.stem, BatchNorm::Then::relu))),
      fc([&]() -> Linear& {
        int64_t width = config.stem;
        for (size_t s = 0; s < config.stages.size(); ++s) {
          const ResNetStage& st = config.stages[s];
          for (int64_t b = 0; b < st.blocks; ++b) {
            const std::string name = fmt::format("stage{}.block{}", s + 1, b);
            blocks.push_back(&add_module(
                name, std::make_unique<BasicBlock>(ctx, width, st.width, b == 0 ? st.stride : 1, spec.act)));
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

}  // namespace rotor
