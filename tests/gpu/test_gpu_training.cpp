// Whole training steps on the CPU and on the GPU from identical weights and
// data: the losses of the first steps must agree (every op, the autograd
// tape, the optimizer and the allocator working together), and a failed
// device allocation must be a clear Error.
#include <catch2/catch.hpp>

#include "engine/init.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/tensor_util.h"
#include "models/model.h"
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

namespace {

struct RunSpec {
  std::string arch;
  int64_t channels, size, classes, batch;
  OptimizerConfig optimizer;
  double lr;
  int steps;
};

// Losses of the first steps of one run on `device`. Weights come from the
// context's seeded Rng on the host (type-I slopes, so some are negative),
// so both devices start from the same network; the data is fixed.
std::vector<float> first_losses(Device device, const RunSpec& r) {
  ContextOptions o;
  o.device = device;
  o.seed = 7;
  o.precision = Precision::fp32;  // compared with the CPU's FP32 losses
  Context ctx(o);
  ModelSpec spec;
  spec.arch = r.arch;
  spec.act = Activation::rrelu;
  spec.in_channels = r.channels;
  spec.height = spec.width = r.size;
  spec.classes = r.classes;
  auto model = build_model(ctx, spec);
  for (auto& [name, p] : model->named_slopes()) init_slopes_type1(ctx, p->value());
  Optimizer opt(ctx, model->named_parameters(), r.optimizer);

  Rng data_rng(11);
  const Shape xs = {r.batch, r.channels, r.size, r.size};
  const Tensor x = from_host(ctx, xs, normal(data_rng, shape_numel(xs)));
  Tensor labels_host = Tensor::host({r.batch}, DType::i32);
  for (int64_t i = 0; i < r.batch; ++i)
    labels_host.data<int32_t>()[i] = static_cast<int32_t>(data_rng.below(static_cast<uint64_t>(r.classes)));
  const Tensor labels = to_device(ctx, labels_host, device);

  std::vector<float> losses;
  for (int step = 0; step < r.steps; ++step) {
    Graph g(ctx, true, hash_u64(5, static_cast<uint64_t>(step)));
    Var logits = model->forward(g, make_var(x));
    Var loss = softmax_cross_entropy(g, logits, labels);
    g.backward(loss);
    opt.step(r.lr);
    losses.push_back(host_values(ctx, loss->value)[0]);
  }
  return losses;
}

void require_same_losses(const RunSpec& r) {
  const std::vector<float> cpu = first_losses(Device::cpu, r), gpu = first_losses(Device::cuda, r);
  for (size_t i = 0; i < cpu.size(); ++i) UNSCOPED_INFO("step " << i << ": cpu " << cpu[i] << ", gpu " << gpu[i]);
  for (float l : gpu) REQUIRE(std::isfinite(l));
  REQUIRE_CLOSE(r.arch + " losses", gpu, cpu, 0.0, 1e-3);
}

}  // namespace

TEST_CASE("gpu training: ResNet-8 RReLU with SGD momentum matches the CPU for 5 steps", "[gpu][training]") {
  RunSpec r{"resnet8", 3, 16, 4, 16, {}, 0.05, 5};
  r.optimizer.kind = OptimizerConfig::Kind::sgd;
  r.optimizer.momentum = 0.9;
  for (auto& g : r.optimizer.groups) g.weight_decay = 5e-4;
  require_same_losses(r);
}

TEST_CASE("gpu training: FCNN RReLU with Adam matches the CPU for 5 steps", "[gpu][training]") {
  RunSpec r{"fcnn", 1, 28, 10, 16, {}, 1e-3, 5};
  r.optimizer.kind = OptimizerConfig::Kind::adam;
  for (auto& g : r.optimizer.groups) g.weight_decay = 1e-4;
  require_same_losses(r);
}

TEST_CASE("gpu out-of-memory is an Error naming the size and the shape", "[gpu][allocator]") {
  Context ctx(cuda_context_options());
  const int64_t absurd = int64_t(1) << 45;  // floats: 128 TiB
  std::string message;
  try {
    Tensor t = Tensor::empty(ctx, {absurd});
  } catch (const Error& e) {
    message = e.what();
  }
  INFO(message);
  REQUIRE(message.find("out of cuda memory") != std::string::npos);
  REQUIRE(message.find("134217728.0 MiB") != std::string::npos);        // 2^47 bytes
  REQUIRE(message.find(fmt::format("({})", absurd)) != std::string::npos);  // the shape
  // The failure left no sticky error behind: the context still works.
  Tensor ok = Tensor::empty(ctx, {3});
  fill(ctx, ok, 2.5f);
  REQUIRE(host_values(ctx, ok) == std::vector<float>{2.5f, 2.5f, 2.5f});
}
