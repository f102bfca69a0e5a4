// Explicit sparsity (apps/sparsity.h, kernels/proximal.h): the proximal
// step puts small values at exactly 0 and shrinks the others by exactly the
// threshold; --slope-l1 / --bn-l1 zero slopes and batch-norm scales in a
// real run; lambda = 0 reproduces the plain run bit for bit; old run.json
// files load; prune --by bn-scale works on a ReLU network.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>

#include "apps/run_files.h"
#include "apps/sparsity.h"
#include "apps/train_options.h"
#include "engine/context.h"
#include "engine/tensor_file.h"
#include "engine/tensor_util.h"
#include "kernels/proximal.h"
#include "models/model_file.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

std::string small_data() { return fashion_subset_dir(1000, 200); }

std::string common_flags(const std::string& act) {
  return " --model fcnn-32 --act " + act + " --data mnist:" + small_data() +
         " --epochs 1 --batch 50 --opt adam --lr 1e-2 --wd 1e-4 --schedule constant --device cpu --threads 2"
         " --seed 3 --out ";
}

// The named tensor's values from a model file.
std::vector<float> tensor_values(const std::string& file, const std::string& name) {
  const TensorFile f = read_tensor_file(file);
  for (const auto& [n, t] : f.tensors)
    if (n == name) return std::vector<float>(t.f32(), t.f32() + t.numel());
  FAIL("no tensor " << name << " in " << file);
  return {};
}

int64_t exact_zeros(const std::vector<float>& v) {
  int64_t n = 0;
  for (float x : v) n += x == 0.0f;
  return n;
}

}  // namespace

TEST_CASE("soft_threshold: |x| <= t lands on exactly 0, larger |x| shrinks by exactly t", "[sparsity]") {
  Context ctx;
  // Values and threshold exactly representable, so |x| - t is exact.
  std::vector<float> x = {0.75f, -0.75f, 0.25f, -0.25f, 0.125f, -0.0625f, 0.0f, -0.0f, 3.5f, -1.25f};
  cpu::soft_threshold<float>(ctx, static_cast<int64_t>(x.size()), 0.25f, x.data());
  const std::vector<float> want = {0.5f, -0.5f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 3.25f, -1.0f};
  CHECK(x == want);
  for (size_t i = 2; i < 8; ++i) CHECK_FALSE(std::signbit(x[i]));  // +0, not -0
  // A threshold that is not a power of two: shrink equals the float
  // subtraction, sign kept.
  std::vector<double> d = {0.3, -0.3, 1e-3, 2.0};
  cpu::soft_threshold<double>(ctx, 4, 1e-2, d.data());
  CHECK(d[0] == 0.3 - 1e-2);
  CHECK(d[1] == -(0.3 - 1e-2));
  CHECK(d[2] == 0.0);
  CHECK(d[3] == 2.0 - 1e-2);
  // Threshold 0 changes nothing.
  std::vector<float> y = {0.3f, -1e-30f, 7.0f}, y0 = y;
  cpu::soft_threshold<float>(ctx, 3, 0.0f, y.data());
  CHECK(y == y0);
}

TEST_CASE("ProximalL1 shrinks the slopes and BN scales it is asked to, nothing else", "[sparsity]") {
  Context ctx;
  ModelSpec spec;
  spec.arch = "fcnn-8";
  spec.in_channels = 1;
  spec.height = 2;
  spec.width = 2;
  spec.classes = 3;
  auto model = build_model(ctx, spec);
  auto params = model->named_parameters();
  std::map<std::string, std::vector<float>> before;
  for (auto& [n, p] : params) before[n] = host_values(ctx, p->value());
  SparsitySettings s;
  s.slope_l1 = 100;  // lr * lambda = 0.1
  ProximalL1(params, s).apply(ctx, 1e-3);
  for (auto& [n, p] : params) {
    INFO(n);
    const std::vector<float> now = host_values(ctx, p->value());
    if (n == "bn1.slope") {
      for (size_t i = 0; i < now.size(); ++i) {
        const float b = before[n][i];
        CHECK(now[i] == (std::fabs(b) <= 0.1f ? 0.0f : std::copysign(std::fabs(b) - 0.1f, b)));
      }
    } else {
      CHECK(now == before[n]);  // BN scales untouched at bn_l1 = 0
    }
  }
  s = {};
  s.bn_l1 = 2000;  // lr * lambda = 2 > every initial scale (1): all scales to 0
  ProximalL1(params, s).apply(ctx, 1e-3);
  for (auto& [n, p] : params)
    if (n == "bn1.weight") CHECK(exact_zeros(host_values(ctx, p->value())) == 8);
}

TEST_CASE("lambda 0 (--slope-l1 0 --bn-l1 0) reproduces the plain run bit for bit", "[sparsity][cli]") {
  const std::string plain = temp_dir("sparse-plain"), zero = temp_dir("sparse-zero");
  rotor_ok("train" + common_flags("rrelu") + plain);
  rotor_ok("train" + common_flags("rrelu") + zero + " --slope-l1 0 --bn-l1 0");
  require_same_tensors(plain + "/model.rotor", zero + "/model.rotor");
  require_same_tensors(plain + "/checkpoint.rotor", zero + "/checkpoint.rotor");
  const Json run = read_json_file(zero + "/run.json");
  CHECK(run.at("slope_l1").as_number() == 0);
  CHECK(run.at("bn_l1").as_number() == 0);
}

TEST_CASE("the slope L1 puts slopes at exactly 0, the BN L1 zeroes BN scales of a ReLU network", "[sparsity][cli]") {
  const std::string plain = temp_dir("sparse-plain2"), l1 = temp_dir("sparse-l1"), bn = temp_dir("sparse-bn");
  rotor_ok("train" + common_flags("rrelu") + plain);
  rotor_ok("train" + common_flags("rrelu") + l1 + " --slope-l1 6");
  rotor_ok("train" + common_flags("relu") + bn + " --bn-l1 6");
  CHECK(exact_zeros(tensor_values(plain + "/model.rotor", "bn1.slope")) == 0);
  const int64_t zero_slopes = exact_zeros(tensor_values(l1 + "/model.rotor", "bn1.slope"));
  CHECK(zero_slopes > 0);
  CHECK(zero_slopes < 32);
  const int64_t zero_scales = exact_zeros(tensor_values(bn + "/model.rotor", "bn1.weight"));
  CHECK(zero_scales > 0);
  CHECK(zero_scales < 32);
  CHECK(read_json_file(l1 + "/run.json").at("slope_l1").as_number() == 6);
  CHECK(read_json_file(bn + "/run.json").at("bn_l1").as_number() == 6);
  // The ReLU network prunes by its BN scales: the pruned model is smaller and
  // computes what the masked one computes.
  const std::string out = bn + "/prune";
  rotor_ok("prune --model-file " + bn + "/model.rotor --by bn-scale --gamma 1e-30 --out " + out);
  const Json j = read_json_file(out + "/prune.json");
  CHECK(j.at("by").as_string() == "bn-scale");
  CHECK(j.at("scores_pruned").as_int() == zero_scales);
  CHECK(j.at("params_after").as_int() < j.at("params_before").as_int());
  CHECK(j.at("acc_pruned").as_number() == j.at("acc_masked").as_number());
  CHECK(read_model_spec(read_tensor_file(out + "/pruned.rotor"), out).arch ==
        "fcnn-" + std::to_string(32 - zero_scales));
  // By slope it still refuses, naming the way out.
  const CommandResult refused = run_rotor("prune --model-file " + bn + "/model.rotor --out " + bn + "/p2");
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.output, Catch::Contains("--by bn-scale"));
}

TEST_CASE("the slope L1 needs slopes, negative lambdas are refused, old run.json files load", "[sparsity][cli]") {
  const CommandResult relu = run_rotor("train --act relu --slope-l1 0.1 --out " + temp_dir("sparse-bad"));
  CHECK(relu.exit_code == 2);
  CHECK_THAT(relu.output, Catch::Contains("--slope-l1 needs --act rrelu"));
  const CommandResult neg = run_rotor("train --bn-l1 -1 --out " + temp_dir("sparse-bad2"));
  CHECK(neg.exit_code != 0);
  CHECK_THAT(neg.output, Catch::Contains("bn-l1"));
  // A run.json from before these options: no slope_l1 / bn_l1 keys.
  TrainOptions o;
  o.spec.arch = "fcnn";
  o.settings.sparsity.slope_l1 = 0.5;
  o.settings.sparsity.bn_l1 = 0.25;
  Json j = o.to_json();
  CHECK(TrainOptions::from_json(j).settings.sparsity.slope_l1 == 0.5);
  CHECK(TrainOptions::from_json(j).settings.sparsity.bn_l1 == 0.25);
  Json old = Json::object();
  for (const auto& [k, v] : j.as_object())
    if (k != "slope_l1" && k != "bn_l1") old.set(k, v);
  const TrainOptions loaded = TrainOptions::from_json(old);
  CHECK(loaded.settings.sparsity.slope_l1 == 0);
  CHECK(loaded.settings.sparsity.bn_l1 == 0);
}
