// The method's training modes: type-II initialisation from a trained ReLU
// model, and slopes-only training with the weights frozen.
#include <catch2/catch.hpp>

#include "apps/trainer.h"
#include "data/registry.h"
#include "engine/context.h"
#include "engine/tensor_file.h"
#include "engine/tensor_util.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

std::string small_data() { return fashion_subset_dir(800, 200); }


std::vector<float> values(const TensorFile& f, const std::string& name) {
  const Tensor* t = f.find(name);
  REQUIRE(t != nullptr);
  return std::vector<float>(t->f32(), t->f32() + t->numel());
}

}  // namespace

TEST_CASE("type-II initialisation copies a ReLU model's weights and sets every slope to 1", "[workflow]") {
  const std::string relu = temp_dir("type2-relu"), rrelu = temp_dir("type2-rrelu");
  rotor_ok("train --model fcnn-16 --act relu --data mnist:" + small_data() + " --epochs 1 --device cpu --out " + relu);
  // A learning rate of ~0 keeps the copied values; what changes are the BN running statistics.
  rotor_ok("train --model fcnn-16 --act rrelu --init type2:" + relu + "/model.rotor --data mnist:" + small_data() +
           " --epochs 1 --lr 1e-12 --wd 0 --schedule constant --device cpu --out " + rrelu);
  const TensorFile a = read_tensor_file(relu + "/model.rotor"), b = read_tensor_file(rrelu + "/model.rotor");
  for (const char* name : {"fc1.weight", "bn1.weight", "bn1.bias", "fc2.weight", "fc2.bias"}) {
    const auto va = values(a, name), vb = values(b, name);
    REQUIRE(va.size() == vb.size());
    for (size_t i = 0; i < va.size(); ++i) REQUIRE(vb[i] == Approx(va[i]).margin(1e-6));
  }
  for (float s : values(b, "bn1.slope")) REQUIRE(s == Approx(1.0f).margin(1e-6));

  const CommandResult wrong = run_rotor("train --model fcnn-32 --init type2:" + relu + "/model.rotor --data mnist:" +
                                        small_data() + " --epochs 1 --device cpu --out " + temp_dir("type2-bad"));
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.output, Catch::Contains("holds a fcnn-16 (relu)") && Catch::Contains("trains a fcnn-32"));

  // A pruned ResNet keeps its channels when used as a type-II starting point.
  const std::string relu_resnet = temp_dir("type2-resnet");
  rotor_ok("train --model resnet8 --act relu --data mnist:" + small_data() + " --epochs 1 --batch 100 --device cpu --out " +
           relu_resnet);
  const CommandResult bad_data = run_rotor("train --init type2:" + relu_resnet + "/model.rotor --data mnist:" +
                                           small_data() + " --model fcnn --epochs 1 --device cpu --out " + temp_dir("t2x"));
  CHECK(bad_data.exit_code == 1);
  CHECK_THAT(bad_data.output, Catch::Contains("holds a resnet8 (relu)"));
}

TEST_CASE("slopes-only training leaves every other parameter at its initial value", "[workflow]") {
  const DataSplit full = load_data("mnist:" + small_data());
  Context ctx(ContextOptions{Device::cpu, 2, 8});
  ModelSpec spec;
  spec.arch = "resnet8";
  spec.in_channels = 1;
  spec.height = spec.width = 28;
  spec.classes = 10;
  auto model = build_model(ctx, spec);
  std::vector<std::vector<float>> before;
  for (auto& [name, p] : model->named_parameters()) {
    before.push_back(host_values(ctx, p->value()));
    p->set_trainable(p->group == ParamGroup::slopes);
  }
  TrainSettings s;
  s.epochs = 1;
  s.batch = 100;
  s.schedule.lr = 0.1;
  s.optimizer.group(ParamGroup::weights).weight_decay = 5e-4;  // decay must not reach frozen weights
  Trainer trainer(ctx, *model, full, s);
  trainer.train_epoch();
  size_t i = 0, changed_slopes = 0;
  for (auto& [name, p] : model->named_parameters()) {
    INFO(name);
    const auto after = host_values(ctx, p->value());
    if (p->group == ParamGroup::slopes)
      changed_slopes += after != before[i];
    else
      CHECK(after == before[i]);
    ++i;
  }
  CHECK(changed_slopes == model->named_slopes().size());
}

TEST_CASE("rotor train --train slopes: the weights stay at their (seeded) initial values", "[workflow][cli]") {
  const std::string one = temp_dir("slopes-1"), two = temp_dir("slopes-2");
  const std::string common = " --model fcnn-16 --train slopes --data mnist:" + small_data() + " --seed 5 --device cpu --out ";
  rotor_ok("train --epochs 1" + common + one);
  rotor_ok("train --epochs 2" + common + two);
  const TensorFile a = read_tensor_file(one + "/model.rotor"), b = read_tensor_file(two + "/model.rotor");
  CHECK(values(a, "fc1.weight") == values(b, "fc1.weight"));
  CHECK(values(a, "fc2.weight") == values(b, "fc2.weight"));
  CHECK(values(a, "bn1.slope") != values(b, "bn1.slope"));
  const CommandResult r = run_rotor("train --train weights --data mnist:" + small_data() + " --out " + temp_dir("slopes-3"));
  CHECK_THAT(r.output, Catch::Contains("--train: expected all, slopes or slopes+classifier"));
}
