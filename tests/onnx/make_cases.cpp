// rotor_onnx_cases OUT_DIR: the models and rotor's logits that
// tests/onnx/check_logits.py compares with ONNX Runtime's.
//
// Writes OUT_DIR/images.npy, the first 64 Fashion-MNIST test images as
// float32 pixels / 255 (64, 1, 28, 28), and per case NAME.rotor (a model
// file) and NAME.logits.npy (rotor's evaluation-mode logits of the model
// read back from that file, on those images, normalised by rotor's own batch
// assembly). The models are trained for a few steps on real images (so the
// batch-norm statistics are not the initial 0 and 1), with type-I slopes
// (both signs), and pruned with rotor's prune_model at the median slope
// magnitude; three more have planted dead parts that make zero-width layers.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "apps/trainer.h"
#include "data/registry.h"
#include "engine/context.h"
#include "engine/init.h"
#include "engine/tensor_util.h"
#include "models/model_file.h"
#include "models/prune.h"
#include "tests/support/npy.h"

using namespace rotor;

namespace {

constexpr int64_t images = 64;

ModelSpec spec_for(const DataSplit& d, const std::string& arch, Activation act) {
  ModelSpec s;
  s.arch = arch;
  s.act = act;
  s.in_channels = d.train.channels;
  s.height = d.train.height;
  s.width = d.train.width;
  s.classes = d.classes;
  const ChannelStats st = channel_stats(d.train);
  s.mean = st.mean;
  s.std = st.std;
  return s;
}

// A model trained for one epoch on the first `train` images.
std::unique_ptr<Model> trained(Context& ctx, const DataSplit& full, const std::string& arch, Activation act,
                               int64_t train, bool adam) {
  DataSplit d = full;
  d.train = full.train.slice(0, train);
  d.test = full.test.slice(0, images);
  auto model = build_model(ctx, spec_for(d, arch, act));
  for (auto& [name, p] : model->named_slopes()) init_slopes_type1(ctx, p->value());
  TrainSettings s;
  s.epochs = 1;
  s.batch = 64;
  s.optimizer.kind = adam ? OptimizerConfig::Kind::adam : OptimizerConfig::Kind::sgd;
  s.schedule.lr = adam ? 1e-3 : 0.05;
  s.seed = 5;
  Trainer trainer(ctx, *model, d, s);
  const EpochResult r = trainer.train_epoch();
  fmt::print("{}: trained {} steps, test accuracy {:.1f}% on {} images\n", model->spec().describe(),
             trainer.steps_per_epoch(), 100 * r.test.accuracy, r.test.count);
  return model;
}

// One more epoch of SGD on the next `train` images.
void train_more(Context& ctx, const DataSplit& full, Model& model, int64_t train) {
  DataSplit d = full;
  d.train = full.train.slice(train, 2 * train);
  d.test = full.test.slice(0, images);
  TrainSettings s;
  s.epochs = 1;
  s.batch = 64;
  s.schedule.lr = 0.05;
  s.seed = 6;
  Trainer trainer(ctx, model, d, s);
  trainer.train_epoch();
}

double median_slope(Context& ctx, Model& m) {
  const std::vector<double> mags = slope_magnitudes(ctx, m);
  return mags[mags.size() / 2];
}

void set_slopes(Context& ctx, Model& m, const std::string& name, float value) {
  for (auto& [n, p] : m.named_slopes())
    if (n == name) {
      fill(ctx, p->value(), value);
      return;
    }
  fail("no slope parameter {}", name);
}

// Writes NAME.rotor, reads it back and writes its logits on the images.
void write_case(Context& ctx, const std::string& dir, const std::string& name, Model& model, const Dataset& test) {
  const std::string file = dir + "/" + name + ".rotor";
  save_model_file(ctx, file, model);
  std::unique_ptr<Model> back = load_model_file(ctx, file);
  const DeviceDataset data(ctx, test);
  std::vector<int32_t> order(static_cast<size_t>(images));
  std::iota(order.begin(), order.end(), 0);
  Tensor index_host = Tensor::host({images}, DType::i32);
  std::copy(order.begin(), order.end(), index_host.data<int32_t>());
  const Tensor index = to_device(ctx, index_host, ctx.device());
  const ModelSpec& s = back->spec();
  Tensor x = Tensor::empty(ctx, {images, s.in_channels, s.height, s.width});
  Tensor y = Tensor::empty(ctx, {images}, DType::i32);
  assemble_batch(ctx, data.images, data.labels, index, augment_spec(s, false, 0, 0, 0), x, y);
  Graph g(ctx, false);
  const std::vector<float> logits = host_values(ctx, back->forward(g, make_var(x))->value);
  test::write_npy(dir + "/" + name + ".logits.npy", {images, s.classes}, logits);
  fmt::print("{}: {}\n", name, s.describe());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: rotor_onnx_cases OUT_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  try {
    Context ctx(ContextOptions{Device::cpu, 0, 7});
    const DataSplit data = load_data("fashion-mnist");
    const Dataset test = data.test.slice(0, images);
    std::vector<float> pixels(test.images.begin(), test.images.end());
    for (float& p : pixels) p /= 255.0f;
    test::write_npy(dir + "/images.npy", {images, test.channels, test.height, test.width}, pixels);

    auto fcnn = trained(ctx, data, "fcnn", Activation::rrelu, 6000, true);
    write_case(ctx, dir, "fcnn-rrelu", *fcnn, test);
    write_case(ctx, dir, "fcnn-rrelu-pruned", *prune_model(ctx, *fcnn, median_slope(ctx, *fcnn)), test);

    auto r20 = trained(ctx, data, "resnet20", Activation::rrelu, 256, false);
    write_case(ctx, dir, "resnet20-rrelu", *r20, test);
    auto r20_pruned = prune_model(ctx, *r20, median_slope(ctx, *r20));
    write_case(ctx, dir, "resnet20-rrelu-pruned", *r20_pruned, test);
    // Retrained after pruning (the method's second step): the slopes of stream
    // channels no block writes any more move away from 0, so the zeros the
    // export adds there are seen in the logits.
    train_more(ctx, data, *r20_pruned, 256);
    write_case(ctx, dir, "resnet20-rrelu-pruned-retrained", *r20_pruned, test);

    auto wrn = trained(ctx, data, "wrn-10-2", Activation::rrelu, 256, false);
    write_case(ctx, dir, "wrn-10-2-rrelu", *wrn, test);
    write_case(ctx, dir, "wrn-10-2-rrelu-pruned", *prune_model(ctx, *wrn, median_slope(ctx, *wrn)), test);

    auto relu = trained(ctx, data, "resnet8", Activation::relu, 256, false);
    write_case(ctx, dir, "resnet8-relu", *relu, test);
    auto fcnn_relu = trained(ctx, data, "fcnn-64", Activation::relu, 2000, true);
    write_case(ctx, dir, "fcnn-64-relu", *fcnn_relu, test);

    // Zero-width parts. A ResNet block whose conv1 filters all die (its
    // branch is bn2's shift), and one whose outputs all die (the stream is
    // dead after it, so the next block reads no channel at all).
    auto r8 = trained(ctx, data, "resnet8", Activation::rrelu, 256, false);
    set_slopes(ctx, *r8, "stage1.block0.bn1.slope", 0.0f);
    write_case(ctx, dir, "resnet8-dead-branch-pruned", *prune_model(ctx, *r8, 0.01), test);
    set_slopes(ctx, *r8, "stage2.block0.act.slope", 0.0f);
    write_case(ctx, dir, "resnet8-dead-stream-pruned", *prune_model(ctx, *r8, 0.01), test);
    // A wide block that reads no stream channel (its identity shortcut
    // still carries the image) and one whose conv1 filters all die.
    auto w10 = trained(ctx, data, "wrn-10-1", Activation::rrelu, 256, false);
    set_slopes(ctx, *w10, "group1.block0.bn1.slope", 0.0f);
    set_slopes(ctx, *w10, "group3.block0.bn2.slope", 0.0f);
    write_case(ctx, dir, "wrn-10-1-dead-parts-pruned", *prune_model(ctx, *w10, 0.01), test);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rotor_onnx_cases: %s\n", e.what());
    return 1;
  }
  return 0;
}
