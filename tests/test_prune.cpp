// Pruning: planted small slopes remove exactly the expected filters, the
// pruned network computes the masked network's logits, and the counts match
// hand-computed values.
#include <catch2/catch.hpp>

#include <functional>
#include <numeric>

#include "engine/context.h"
#include "engine/tensor_util.h"
#include "models/prune.h"
#include "models/resnet.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"

using namespace rotor;
using namespace rotor::test;

namespace {

ModelSpec spec_for(const std::string& arch, int64_t c, int64_t hw, int64_t classes) {
  ModelSpec s;
  s.arch = arch;
  s.in_channels = c;
  s.height = hw;
  s.width = hw;
  s.classes = classes;
  return s;
}

// Every parameter and buffer random (running variances positive), slopes
// with magnitudes in [0.5, 1.5] so only planted ones are small.
void randomize(Context& ctx, Model& m, Rng& rng) {
  for (auto& [name, p] : m.named_parameters()) {
    const bool slope = p->group == ParamGroup::slopes;
    std::vector<double> v = slope ? random_away_from_zero(rng, p->value().numel(), 0.5, 1.5)
                                  : random_vector(rng, p->value().numel(), -0.5, 0.5);
    if (name.find("bn") != std::string::npos && name.find(".weight") != std::string::npos)
      v = random_vector(rng, p->value().numel(), 0.5, 1.5);
    copy(ctx, from_host(ctx, p->value().shape(), to_float(v)), p->value());
  }
  for (auto& [name, b] : m.named_buffers()) {
    const bool var = name.find("running_var") != std::string::npos;
    const auto v = var ? random_vector(rng, b->numel(), 0.5, 2) : random_vector(rng, b->numel(), -0.3, 0.3);
    copy(ctx, from_host(ctx, b->shape(), to_float(v)), *b);
  }
}

Parameter& param(Model& m, const std::string& name) {
  for (auto& [n, p] : m.named_parameters())
    if (n == name) return *p;
  FAIL("no parameter " << name);
  throw;
}

void set_entries(Context& ctx, Model& m, const std::string& name, const std::vector<std::pair<int, float>>& values) {
  Parameter& p = param(m, name);
  std::vector<float> v = host_values(ctx, p.value());
  for (auto [i, x] : values) v[static_cast<size_t>(i)] = x;
  copy(ctx, from_host(ctx, p.value().shape(), v), p.value());
}

std::vector<float> logits(Context& ctx, Model& m, const Tensor& x) {
  Graph g(ctx, false);
  return host_values(ctx, m.forward(g, make_var(x))->value);
}

int64_t total(const std::vector<LayerCost>& rows, int64_t LayerCost::*field) {
  int64_t s = 0;
  for (const LayerCost& r : rows) s += r.*field;
  return s;
}

std::vector<int64_t> ints(const Json& a) {
  std::vector<int64_t> v;
  for (const Json& x : a.as_array()) v.push_back(x.as_int());
  return v;
}

// The pruned network's logits equal the masked network's, on random images.
void check_equivalent(Context& ctx, Model& model, double gamma, Rng& rng) {
  auto pruned = prune_model(ctx, model, gamma);
  mask_slopes(ctx, model, gamma);
  const ModelSpec& s = model.spec();
  const Tensor x = from_host(ctx, {5, s.in_channels, s.height, s.width},
                             to_float(random_vector(rng, 5 * s.in_channels * s.height * s.width, -2, 2)));
  REQUIRE_CLOSE("pruned vs masked logits", logits(ctx, *pruned, x), logits(ctx, model, x), 1e-5, 1e-4);
}

}  // namespace

TEST_CASE("FCNN: planted small slopes remove exactly those hidden units", "[prune]") {
  Context ctx;
  Rng rng(41);
  auto m = build_model(ctx, spec_for("fcnn-12", 1, 4, 3));
  randomize(ctx, *m, rng);
  set_entries(ctx, *m, "bn1.slope", {{2, 0.01f}, {7, -0.02f}, {11, 0.0f}});
  auto pruned = prune_model(ctx, *m, 0.05);
  CHECK(pruned->spec().arch == "fcnn-9");
  CHECK(ints(pruned->spec().live.at("hidden")) == std::vector<int64_t>{0, 1, 3, 4, 5, 6, 8, 9, 10});
  // 16*9 + 2*9 + 9*3 + 3 parameters.
  CHECK(total(pruned->layer_costs(), &LayerCost::params) == 16 * 9 + 18 + 27 + 3);
  check_equivalent(ctx, *m, 0.05, rng);
}

TEST_CASE("ResNet: dead mid channels, dead stream channels, and the next block's inputs", "[prune]") {
  Context ctx;
  Rng rng(42);
  auto m = build_model(ctx, spec_for("resnet8", 3, 8, 4));  // one block per stage: 16, 32, 64 wide
  randomize(ctx, *m, rng);
  // Block 0: conv1 filters 2 and 9 die; stream channels 5 and 15 die after the addition.
  set_entries(ctx, *m, "stage1.block0.bn1.slope", {{2, 0.001f}, {9, -0.003f}});
  set_entries(ctx, *m, "stage1.block0.act.slope", {{5, 0.002f}, {15, 0.0f}});
  // Block 1 (16 -> 32, stride 2): conv1 filter 31 dies; stream channel 0 dies.
  set_entries(ctx, *m, "stage2.block0.bn1.slope", {{31, 0.004f}});
  set_entries(ctx, *m, "stage2.block0.act.slope", {{0, -0.001f}});
  auto pruned = prune_model(ctx, *m, 0.01);
  const Json& blocks = pruned->spec().live.at("blocks");
  std::vector<int64_t> all16(16), all32(32), all64(64);
  std::iota(all16.begin(), all16.end(), 0);
  std::iota(all32.begin(), all32.end(), 0);
  std::iota(all64.begin(), all64.end(), 0);
  auto without = [](std::vector<int64_t> v, std::vector<int64_t> drop) {
    for (int64_t d : drop) v.erase(std::find(v.begin(), v.end(), d));
    return v;
  };
  CHECK(ints(blocks.as_array()[0].at("in")) == all16);
  CHECK(ints(blocks.as_array()[0].at("mid")) == without(all16, {2, 9}));
  CHECK(ints(blocks.as_array()[0].at("out")) == without(all16, {5, 15}));
  CHECK(ints(blocks.as_array()[1].at("in")) == without(all16, {5, 15}));  // block 0's dead outputs are never read
  CHECK(ints(blocks.as_array()[1].at("mid")) == without(all32, {31}));
  CHECK(ints(blocks.as_array()[1].at("out")) == without(all32, {0}));
  CHECK(ints(blocks.as_array()[2].at("in")) == without(all32, {0}));
  CHECK(ints(blocks.as_array()[2].at("mid")) == all64);
  CHECK(ints(blocks.as_array()[2].at("out")) == all64);

  // Conv parameters by hand: stem 3*16*9; block 0: 14x16 and 14x14 filters -> 14*16*9 + 14*14*9;
  // block 1: 31 filters over 14 inputs, then 31 -> 31 outputs; block 2: 64 over 31, then 64x64.
  int64_t conv = 0;
  for (const LayerCost& r : pruned->layer_costs())
    if (r.kind == "conv") conv += r.params;
  CHECK(conv == 3 * 16 * 9 + (14 * 16 + 14 * 14) * 9 + (31 * 14 + 31 * 31) * 9 + (64 * 31 + 64 * 64) * 9);
  check_equivalent(ctx, *m, 0.01, rng);
}

TEST_CASE("ResNet: a block whose whole branch dies still matches the masked network", "[prune]") {
  Context ctx;
  Rng rng(43);
  auto m = build_model(ctx, spec_for("resnet8", 3, 8, 4));
  randomize(ctx, *m, rng);
  std::vector<std::pair<int, float>> zeros;
  for (int i = 0; i < 16; ++i) zeros.emplace_back(i, 0.0f);
  set_entries(ctx, *m, "stage1.block0.bn1.slope", zeros);  // conv1 keeps no filter: conv2 sees nothing
  check_equivalent(ctx, *m, 0.1, rng);
}

TEST_CASE("wide ResNet: dead input and mid channels of pre-activation blocks", "[prune]") {
  Context ctx;
  Rng rng(44);
  auto m = build_model(ctx, spec_for("wrn-10-1", 3, 8, 5));  // one block per group: 16->16, 16->32, 32->64
  randomize(ctx, *m, rng);
  set_entries(ctx, *m, "group1.block0.bn1.slope", {{3, 0.0f}, {4, 0.001f}});
  set_entries(ctx, *m, "group1.block0.bn2.slope", {{0, 0.001f}});
  set_entries(ctx, *m, "group2.block0.bn1.slope", {{15, -0.001f}});  // a block with a 1x1 shortcut
  set_entries(ctx, *m, "group3.block0.bn2.slope", {{63, 0.0f}, {1, 0.0f}});
  auto pruned = prune_model(ctx, *m, 0.01);
  const Json& blocks = pruned->spec().live.at("blocks");
  CHECK(ints(blocks.as_array()[0].at("in")).size() == 14);
  CHECK(ints(blocks.as_array()[0].at("mid")).size() == 15);
  CHECK(ints(blocks.as_array()[1].at("in")).size() == 15);
  CHECK(ints(blocks.as_array()[2].at("mid")).size() == 62);
  check_equivalent(ctx, *m, 0.01, rng);
  // Pruning a pruned network again with the same threshold changes nothing.
  auto again = prune_model(ctx, *pruned, 0.01);
  CHECK(again->spec().live == pruned->spec().live);
}

TEST_CASE("ResNet parameter and FLOP counts equal the hand-worked values", "[prune][counts]") {
  Context ctx;
  const std::vector<std::tuple<std::string, int64_t, int64_t>> cases = {
      {"resnet20", 269722, 81188096}, {"resnet56", 853018, 251229440}, {"resnet110", 1727962, 506291456}};
  for (const auto& [arch, params, flops] : cases) {
    INFO(arch);
    auto m = build_model(ctx, spec_for(arch, 3, 32, 10));
    const auto rows = m->layer_costs();
    CHECK(total(rows, &LayerCost::params) == params);
    CHECK(total(rows, &LayerCost::flops) == flops);
  }
}

// ---- Other criteria: batch-norm scale (network slimming) and |gamma * b|.

namespace {

ModelSpec spec_act(const std::string& arch, int64_t c, int64_t hw, int64_t classes, Activation act) {
  ModelSpec s = spec_for(arch, c, hw, classes);
  s.act = act;
  return s;
}

// The pruned network's logits equal those of the network masked by the same
// criterion, and pruning removed parameters.
void check_equivalent_by(Context& ctx, Model& model, double gamma, PruneBy by, Rng& rng) {
  INFO("--by " << prune_by_name(by) << ", gamma " << gamma);
  auto pruned = prune_model(ctx, model, gamma, by);
  CHECK(total(pruned->layer_costs(), &LayerCost::params) < total(model.layer_costs(), &LayerCost::params));
  CHECK(mask_channels(ctx, model, gamma, by) > 0);
  const ModelSpec& s = model.spec();
  const Tensor x = from_host(ctx, {5, s.in_channels, s.height, s.width},
                             to_float(random_vector(rng, 5 * s.in_channels * s.height * s.width, -2, 2)));
  REQUIRE_CLOSE("pruned vs masked logits", logits(ctx, *pruned, x), logits(ctx, model, x), 1e-5, 1e-4);
}

// A fresh randomised copy per criterion (masking changes the model).
std::unique_ptr<Model> planted(Context& ctx, const ModelSpec& spec, uint64_t seed,
                               const std::function<void(Model&)>& plant) {
  Rng rng(seed);
  auto m = build_model(ctx, spec);
  randomize(ctx, *m, rng);
  plant(*m);
  return m;
}

}  // namespace

TEST_CASE("FCNN by bn-scale and by product: exactly the planted units go", "[prune][criteria]") {
  Context ctx;
  Rng rng(51);
  auto plant = [&](Model& m) {
    set_entries(ctx, m, "bn1.weight", {{1, 0.01f}, {4, -0.02f}, {9, 0.2f}});
    set_entries(ctx, m, "bn1.slope", {{6, 0.01f}, {9, 0.2f}});  // unit 9: |gamma*b| = 0.04
  };
  const ModelSpec spec = spec_for("fcnn-12", 1, 4, 3);
  auto a = planted(ctx, spec, 7, plant);
  auto by_scale = prune_model(ctx, *a, 0.05, PruneBy::bn_scale);
  CHECK(ints(by_scale->spec().live.at("hidden")) == std::vector<int64_t>{0, 2, 3, 5, 6, 7, 8, 9, 10, 11});
  auto by_product = prune_model(ctx, *a, 0.05, PruneBy::product);
  CHECK(ints(by_product->spec().live.at("hidden")) == std::vector<int64_t>{0, 2, 3, 5, 7, 8, 10, 11});
  CHECK(prune_scores(ctx, *a, PruneBy::bn_scale).size() == 12);
  for (PruneBy by : {PruneBy::slope, PruneBy::bn_scale, PruneBy::product})
    check_equivalent_by(ctx, *planted(ctx, spec, 7, plant), 0.05, by, rng);
}

TEST_CASE("ReLU FCNN by bn-scale: the masked unit outputs 0 although its shift is not 0", "[prune][criteria]") {
  Context ctx;
  Rng rng(52);
  auto m = planted(ctx, spec_act("fcnn-12", 1, 4, 3, Activation::relu), 8, [&](Model& m) {
    set_entries(ctx, m, "bn1.weight", {{3, 0.0f}, {5, 0.001f}});
    set_entries(ctx, m, "bn1.bias", {{3, 0.4f}, {5, 0.3f}});  // ReLU(shift) would pass 0.4 and 0.3 on
  });
  CHECK(prune_scores(ctx, *m, PruneBy::slope).empty());
  auto pruned = prune_model(ctx, *m, 0.01, PruneBy::bn_scale);
  CHECK(pruned->spec().arch == "fcnn-10");
  check_equivalent_by(ctx, *m, 0.01, PruneBy::bn_scale, rng);
}

TEST_CASE("ResNet by bn-scale and product: mid channels, and the branch's part of stream channels",
          "[prune][criteria]") {
  Context ctx;
  Rng rng(53);
  for (Activation act : {Activation::rrelu, Activation::relu}) {
    INFO(activation_name(act));
    const ModelSpec spec = spec_act("resnet8", 3, 8, 4, act);
    auto plant = [&](Model& m) {
      set_entries(ctx, m, "stage1.block0.bn1.weight", {{2, 0.001f}, {9, -0.003f}});
      set_entries(ctx, m, "stage1.block0.bn2.weight", {{5, 0.002f}, {15, 0.0f}});
      set_entries(ctx, m, "stage1.block0.bn2.bias", {{5, 0.3f}});
      set_entries(ctx, m, "stage2.block0.bn2.weight", {{0, -0.001f}, {7, 0.001f}});
      if (act == Activation::rrelu) set_entries(ctx, m, "stage2.block0.act.slope", {{3, 0.001f}});
    };
    auto m = planted(ctx, spec, 9, plant);
    auto pruned = prune_model(ctx, *m, 0.01, PruneBy::bn_scale);
    const Json& blocks = pruned->spec().live.at("blocks");
    CHECK(ints(blocks.as_array()[0].at("mid")).size() == 14);
    const std::vector<int64_t> out0 = ints(blocks.as_array()[0].at("out"));
    CHECK(out0.size() == 14);  // conv2 filters 5 and 15 go ...
    CHECK(ints(blocks.as_array()[1].at("in")).size() == 16);  // ... but the stream keeps channels 5 and 15
    CHECK(ints(blocks.as_array()[1].at("out")).size() == 30);
    for (PruneBy by : {PruneBy::bn_scale, PruneBy::product})
      if (by == PruneBy::bn_scale || act == Activation::rrelu)
        check_equivalent_by(ctx, *planted(ctx, spec, 9, plant), 0.01, by, rng);
  }
}

TEST_CASE("wide ResNet by bn-scale and product: pre-activation channels", "[prune][criteria]") {
  Context ctx;
  Rng rng(54);
  for (Activation act : {Activation::rrelu, Activation::relu}) {
    INFO(activation_name(act));
    const ModelSpec spec = spec_act("wrn-10-1", 3, 8, 5, act);
    auto plant = [&](Model& m) {
      set_entries(ctx, m, "group1.block0.bn1.weight", {{3, 0.0f}, {4, 0.001f}});
      set_entries(ctx, m, "group1.block0.bn1.bias", {{3, 0.5f}});
      set_entries(ctx, m, "group1.block0.bn2.weight", {{0, 0.001f}});
      set_entries(ctx, m, "group2.block0.bn1.weight", {{15, -0.001f}});
      set_entries(ctx, m, "group3.block0.bn2.weight", {{63, 0.0f}, {1, 0.0f}});
    };
    auto m = planted(ctx, spec, 10, plant);
    auto pruned = prune_model(ctx, *m, 0.01, PruneBy::bn_scale);
    const Json& blocks = pruned->spec().live.at("blocks");
    CHECK(ints(blocks.as_array()[0].at("in")).size() == 14);
    CHECK(ints(blocks.as_array()[2].at("mid")).size() == 62);
    for (PruneBy by : {PruneBy::bn_scale, PruneBy::product})
      if (by == PruneBy::bn_scale || act == Activation::rrelu)
        check_equivalent_by(ctx, *planted(ctx, spec, 10, plant), 0.01, by, rng);
  }
}
