// Kernel launches of a ResNet block's tail and of a ResNet-20 training step,
// fused (bn_add_act) against the unfused batch_norm -> add -> activation
// sequence it replaced. Launches can be counted only under the emulation
// (tests/gpu/launch_count.h); on a real GPU these tests say so and pass.
// Prints the counts; run with:
//   EMU_DIR=... bash tests/gpu/emulation/run.sh fast "[launches]"
#include <catch2/catch.hpp>

#include <cstdio>

#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/tensor_util.h"
#include "models/resnet.h"
#include "tests/gpu/gpu_support.h"
#include "tests/gpu/launch_count.h"

using namespace rotor;
using namespace rotor::test;

namespace {

// Launches made by f().
template <class F>
uint64_t launches_of(F&& f) {
  const uint64_t before = *launch_count();
  f();
  return *launch_count() - before;
}

// The ResNet's forward with every block's tail unfused: BasicBlock::forward
// as it was before bn_add_act (unpruned blocks).
Var unfused_forward(Graph& g, ResNet& net, const Var& x) {
  Var h = net.stem_bn.forward(g, net.stem_conv.forward(g, x));
  for (BasicBlock* b : net.blocks) {
    Var branch = b->bn2.forward(g, b->conv2.forward(g, b->bn1.forward(g, b->conv1.forward(g, h))));
    Var shortcut = (b->stride != 1 || b->in != b->out) ? shortcut_a(g, h, b->out, b->stride) : h;
    h = b->act.forward(g, add(g, branch, shortcut));
  }
  return net.fc.forward(g, global_avg_pool(g, h));
}

}  // namespace

TEST_CASE("gpu launches: a block's tail, fused and unfused", "[gpu][launches][bn_add_act]") {
  if (!launch_count()) {
    WARN("kernel launches are counted only under the CUDA emulation");
    return;
  }
  Context ctx(cuda_context_options());
  Rng rng(5);
  const Shape shape{4, 16, 8, 8};
  const int64_t n = shape_numel(shape);
  Tensor rm = from_host(ctx, {16}, std::vector<float>(16, 0.0f)), rv = from_host(ctx, {16}, std::vector<float>(16, 1.0f));
  // Parameters as a Module holds them: the gradient allocated, accumulated into.
  auto parameter = [&](const std::vector<float>& v) {
    Var p = make_var(from_host(ctx, {16}, v), true);
    p->grad = from_host(ctx, {16}, std::vector<float>(16, 0.0f));
    p->accumulate = true;
    return p;
  };
  Var gamma = parameter(uniform(rng, 16, 0.5, 1.5)), beta = parameter(uniform(rng, 16, -0.5, 0.5)),
      slope = parameter(uniform(rng, 16, 0.5, 1.5));
  const std::vector<float> xv = uniform(rng, n, -1, 1), rv_values = uniform(rng, n, -1, 1), dy = uniform(rng, n, -1, 1);
  struct Count {
    uint64_t forward, backward;
  };
  auto count = [&](bool fused) {
    Var x = make_var(from_host(ctx, shape, xv), true), r = make_var(from_host(ctx, shape, rv_values), true);
    Graph g(ctx, true);
    Var y;
    Count c{};
    c.forward = launches_of([&] {
      y = fused ? bn_add_act(g, x, r, gamma, beta, slope, rm, rv)
                : rrelu(g, add(g, batch_norm(g, x, gamma, beta, rm, rv), r), slope);
    });
    const Tensor dy_dev = from_host(ctx, shape, dy);
    c.backward = launches_of([&] { g.backward(y, dy_dev); });
    return c;
  };
  const Count fused = count(true), unfused = count(false);
  std::printf("launches of one block tail (BN + add + RReLU): fused %llu forward + %llu backward, "
              "unfused %llu + %llu\n",
              (unsigned long long)fused.forward, (unsigned long long)fused.backward,
              (unsigned long long)unfused.forward, (unsigned long long)unfused.backward);
  REQUIRE(fused.forward == 2);   // statistics, apply
  REQUIRE(fused.backward == 2);  // partial sums (+ dr), dx
  REQUIRE(fused.forward < unfused.forward);
  REQUIRE(fused.backward < unfused.backward);
}

TEST_CASE("gpu launches: one ResNet-20 training step, fused and unfused block tails", "[gpu][launches][training]") {
  if (!launch_count()) {
    WARN("kernel launches are counted only under the CUDA emulation");
    return;
  }
  ContextOptions o = cuda_context_options();
  o.seed = 3;
  Context ctx(o);
  ModelSpec spec;
  spec.arch = "resnet20";
  spec.act = Activation::rrelu;
  spec.in_channels = 3;
  spec.height = spec.width = 16;  // launches do not depend on the image size or the batch
  spec.classes = 10;
  ResNet net(ctx, spec, resnet_config(20));
  OptimizerConfig oc;
  oc.kind = OptimizerConfig::Kind::sgd;
  oc.momentum = 0.9;
  Optimizer opt(ctx, net.named_parameters(), oc);
  Rng rng(4);
  const Tensor x = from_host(ctx, {4, 3, 16, 16}, normal(rng, 4 * 3 * 16 * 16));
  Tensor labels_host = Tensor::host({4}, DType::i32);
  for (int i = 0; i < 4; ++i) labels_host.data<int32_t>()[i] = i;
  const Tensor labels = to_device(ctx, labels_host, Device::cuda);

  // Forward, loss and backward; returns the loss.
  auto forward_backward = [&](bool fused) {
    Graph g(ctx, true);
    Var logits = fused ? net.forward(g, make_var(x)) : unfused_forward(g, net, make_var(x));
    Var loss = softmax_cross_entropy(g, logits, labels);
    g.backward(loss);
    return host_values(ctx, loss->value)[0];
  };
  forward_backward(true);  // warm-up: the first step sets up buffers
  opt.step(0.01);
  float fused_loss = 0, unfused_loss = 0;
  const uint64_t fused = launches_of([&] { fused_loss = forward_backward(true); });
  const uint64_t step = launches_of([&] { opt.step(0.0); });  // lr 0: the weights stay as they are
  const uint64_t unfused = launches_of([&] { unfused_loss = forward_backward(false); });
  std::printf("launches of one ResNet-20 training step: %llu with fused block tails, %llu unfused "
              "(forward + loss + backward: %llu vs %llu; optimizer step: %llu)\n",
              (unsigned long long)(fused + step), (unsigned long long)(unfused + step), (unsigned long long)fused,
              (unsigned long long)unfused, (unsigned long long)step);
  // The same network from the same weights.
  REQUIRE_CLOSE("loss", &fused_loss, &unfused_loss, 1, 0.0, 1e-6);
  REQUIRE(fused < unfused);
}
