// End to end on real data: FCNN-RReLU learns a Fashion-MNIST subset (Debian's
// dataset-fashion-mnist, which scripts/test.sh installs), in-process and
// through the rotor binary.
#include <catch2/catch.hpp>

#include <fstream>

#include "apps/run_files.h"
#include "apps/trainer.h"
#include "data/idx.h"
#include "data/registry.h"
#include "engine/context.h"
#include "engine/init.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

// The first `train` and `test` images of Fashion-MNIST.
DataSplit fashion_subset(int64_t train, int64_t test) {
  DataSplit s = load_data("fashion-mnist");
  s.train = s.train.slice(0, train);
  s.test = s.test.slice(0, test);
  return s;
}

ModelSpec spec_from(const DataSplit& d, const std::string& arch) {
  ModelSpec s;
  s.arch = arch;
  s.in_channels = d.train.channels;
  s.height = d.train.height;
  s.width = d.train.width;
  s.classes = d.classes;
  const ChannelStats st = channel_stats(d.train);
  s.mean = st.mean;
  s.std = st.std;
  return s;
}

}  // namespace

TEST_CASE("FCNN-RReLU learns a Fashion-MNIST subset", "[e2e]") {
  const DataSplit data = fashion_subset(6000, 1000);
  Context ctx(ContextOptions{Device::cpu, 0, 3});
  auto model = build_model(ctx, spec_from(data, "fcnn"));
  for (auto& [name, p] : model->named_slopes()) init_slopes_type1(ctx, p->value());
  TrainSettings s;
  s.epochs = 3;
  s.batch = 64;
  s.optimizer.kind = OptimizerConfig::Kind::adam;
  s.schedule.lr = 1e-3;
  s.seed = 3;
  Trainer trainer(ctx, *model, data, s);
  const DeviceDataset test(ctx, data.test);
  const EvalResult before = evaluate(ctx, *model, test, 500);
  EpochResult first = trainer.train_epoch(), last;
  while (trainer.epochs_done() < s.epochs) last = trainer.train_epoch();
  INFO("loss before " << before.loss << ", epoch 1 " << first.train_loss << ", last " << last.train_loss
                      << "; test accuracy " << last.test.accuracy);
  CHECK(before.accuracy < 0.3);
  CHECK(last.train_loss < first.train_loss);
  CHECK(first.test.loss < before.loss);
  CHECK(last.test.accuracy > 0.78);  // chance is 0.10
  CHECK(last.test.count == 1000);
}

TEST_CASE("a ResNet trains on the CPU: the loss falls over a few steps", "[e2e][resnet]") {
  const DataSplit data = fashion_subset(512, 128);
  Context ctx(ContextOptions{Device::cpu, 0, 4});
  auto model = build_model(ctx, spec_from(data, "resnet8"));
  TrainSettings s;
  s.epochs = 4;
  s.batch = 64;
  s.schedule.lr = 0.05;
  s.seed = 4;
  Trainer trainer(ctx, *model, data, s);
  const double first = trainer.train_epoch().train_loss;
  double last = first;
  while (trainer.epochs_done() < s.epochs) last = trainer.train_epoch().train_loss;
  INFO("epoch 1 loss " << first << ", epoch 4 loss " << last);
  CHECK(last < 0.8 * first);
}

TEST_CASE("rotor train writes metrics.jsonl and a model file that rotor eval reads", "[e2e][cli]") {
  const DataSplit full = load_data("fashion-mnist");
  const std::string dir = temp_dir("e2e-data");
  write_bytes(dir + "/train-images-idx3-ubyte", idx_bytes({3000, 28, 28}, full.train.images.data(), 3000 * 784));
  std::vector<uint8_t> labels(full.train.labels.begin(), full.train.labels.begin() + 3000);
  write_bytes(dir + "/train-labels-idx1-ubyte", idx_bytes({3000}, labels.data(), labels.size()));
  write_gzip(dir + "/t10k-images-idx3-ubyte.gz", idx_bytes({500, 28, 28}, full.test.images.data(), 500 * 784));
  labels.assign(full.test.labels.begin(), full.test.labels.begin() + 500);
  write_gzip(dir + "/t10k-labels-idx1-ubyte.gz", idx_bytes({500}, labels.data(), labels.size()));

  const std::string out = temp_dir("e2e-run");
  const CommandResult r = run_rotor("train --model fcnn-64 --data mnist:" + dir +
                                    " --epochs 2 --opt adam --lr 2e-3 --device cpu --out " + out);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("epoch   2/2") && Catch::Contains("64 slopes"));
  std::ifstream metrics(out + "/metrics.jsonl");
  std::string line;
  int lines = 0;
  Json last;
  while (std::getline(metrics, line)) {
    last = Json::parse(line);
    ++lines;
    for (const char* key : {"epoch", "train_loss", "train_acc", "test_acc", "epoch_s", "img_per_s"})
      CHECK(last.contains(key));
  }
  CHECK(lines == 2);
  CHECK(last.at("epoch").as_int() == 2);
  CHECK(last.at("test_acc").as_number() > 0.6);
  CHECK(read_json_file(out + "/summary.json").at("slopes").at("count").as_int() == 64);

  const CommandResult e = run_rotor("eval --model-file " + out + "/model.rotor --data mnist:" + dir + " --device cpu");
  INFO(e.output);
  REQUIRE(e.exit_code == 0);
  char expected[32];
  std::snprintf(expected, sizeof expected, "accuracy %.2f%%", 100 * last.at("test_acc").as_number());
  CHECK_THAT(e.output, Catch::Contains(expected));

  // A second run into the same folder must not silently replace the first.
  const CommandResult again = run_rotor("train --model fcnn-64 --data mnist:" + dir + " --epochs 1 --device cpu --out " + out);
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.output, Catch::Contains("already holds a run"));
}
