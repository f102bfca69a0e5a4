// The ONNX graph of rotor models: which nodes a network becomes, the
// initializer shapes of pruned networks (only live filters and input slices
// survive; stream channel lists become Gather indices), zero-width layers,
// the ONNX checker, and rotor export's file handling. tests/onnx/
// check_logits.py checks the numbers with ONNX Runtime.
#include <catch2/catch.hpp>
#include <onnx/checker.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

#include "engine/context.h"
#include "engine/tensor_util.h"
#include "models/model_file.h"
#include "models/onnx_export.h"
#include "models/onnx_graph.h"
#include "models/prune.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

using Dims = std::vector<int64_t>;

ModelSpec spec_for(const std::string& arch, int64_t c, int64_t hw, int64_t classes) {
  ModelSpec s;
  s.arch = arch;
  s.in_channels = c;
  s.height = hw;
  s.width = hw;
  s.classes = classes;
  s.mean.assign(static_cast<size_t>(c), 120.0);
  s.std.assign(static_cast<size_t>(c), 60.0);
  return s;
}

void set_slopes(Context& ctx, Model& m, const std::string& name, const std::vector<std::pair<int, float>>& values) {
  for (auto& [n, p] : m.named_slopes())
    if (n == name) {
      std::vector<float> v = host_values(ctx, p->value());
      for (auto [i, x] : values) v[static_cast<size_t>(i)] = x;
      copy(ctx, from_host(ctx, p->value().shape(), v), p->value());
      return;
    }
  FAIL("no slope " << name);
}

void kill_all(Context& ctx, Model& m, const std::string& name) {
  for (auto& [n, p] : m.named_slopes())
    if (n == name) return fill(ctx, p->value(), 0.0f);
  FAIL("no slope " << name);
}

std::map<std::string, int> op_counts(const onnx::ModelProto& m) {
  std::map<std::string, int> c;
  for (const onnx::NodeProto& n : m.graph().node()) ++c[n.op_type()];
  return c;
}

const onnx::TensorProto& initializer(const onnx::ModelProto& m, const std::string& name) {
  for (const onnx::TensorProto& t : m.graph().initializer())
    if (t.name() == name) return t;
  FAIL("no initializer " << name);
  throw;
}

Dims shape_of(const onnx::ModelProto& m, const std::string& name) {
  const onnx::TensorProto& t = initializer(m, name);
  return Dims(t.dims().begin(), t.dims().end());
}

Dims int64s(const onnx::ModelProto& m, const std::string& name) {
  const onnx::TensorProto& t = initializer(m, name);
  return Dims(t.int64_data().begin(), t.int64_data().end());
}

bool has_node(const onnx::ModelProto& m, const std::string& name) {
  for (const onnx::NodeProto& n : m.graph().node())
    if (n.name() == name) return true;
  return false;
}

Dims without(int64_t n, const Dims& drop) {
  Dims v;
  for (int64_t i = 0; i < n; ++i)
    if (std::find(drop.begin(), drop.end(), i) == drop.end()) v.push_back(i);
  return v;
}

}  // namespace

TEST_CASE("ONNX graph of an unpruned ResNet: one node per rotor op, option-A shortcuts as Slice + Pad",
          "[onnx]") {
  Context ctx;
  auto m = build_model(ctx, spec_for("resnet8", 3, 8, 4));  // one block per stage: 16, 32, 64 wide
  const onnx::ModelProto p = onnx_model(ctx, *m);
  REQUIRE_NOTHROW(onnx::checker::check_model(p));
  const std::map<std::string, int> want = {
      {"Mul", 2 + 6},  // input scaling and normalisation; two RReLUs per block
      {"Sub", 1},      {"Conv", 7},    {"BatchNormalization", 7}, {"Relu", 7},
      {"Add", 3},      {"Slice", 2},   {"Pad", 2},
      {"GlobalAveragePool", 1},        {"Flatten", 1},             {"Gemm", 1}};
  CHECK(op_counts(p) == want);
  CHECK(int64s(p, "stage2.block0.shortcut.pads") == Dims{0, 8, 0, 0, 0, 8, 0, 0});
  CHECK(int64s(p, "slice.hw.steps2") == Dims{2, 2});
  CHECK(shape_of(p, "stage1.block0.bn1.slope") == Dims{16, 1, 1});
  CHECK(shape_of(p, "stage3.block0.conv2.weight") == Dims{64, 64, 3, 3});
  CHECK(shape_of(p, "normalise.mean") == Dims{1, 3, 1, 1});
  CHECK(initializer(p, "normalise.inv_std").float_data(0) == static_cast<float>(1.0 / 60.0));
  CHECK(p.opset_import(0).version() == onnx_opset);
  const onnx::ValueInfoProto& in = p.graph().input(0);
  CHECK(in.name() == "image");
  CHECK(in.type().tensor_type().shape().dim(0).dim_param() == "N");
  CHECK(in.type().tensor_type().shape().dim(1).dim_value() == 3);
  CHECK(p.graph().output(0).name() == "logits");
  CHECK(p.graph().output(0).type().tensor_type().shape().dim(1).dim_value() == 4);
  CHECK(p.metadata_props(0).key() == "rotor.spec");
  CHECK(ModelSpec::from_json(Json::parse(p.metadata_props(0).value())).arch == "resnet8");
}

TEST_CASE("ONNX graph of a pruned ResNet: live filters only, stream channels by Gather", "[onnx][prune]") {
  Context ctx;
  auto m = build_model(ctx, spec_for("resnet8", 3, 8, 4));
  // As in test_prune.cpp: block 0 loses conv1 filters 2, 9 and stream channels
  // 5, 15; block 1 (16 -> 32, stride 2) conv1 filter 31 and stream channel 0.
  set_slopes(ctx, *m, "stage1.block0.bn1.slope", {{2, 0.001f}, {9, -0.003f}});
  set_slopes(ctx, *m, "stage1.block0.act.slope", {{5, 0.002f}, {15, 0.0f}});
  set_slopes(ctx, *m, "stage2.block0.bn1.slope", {{31, 0.004f}});
  set_slopes(ctx, *m, "stage2.block0.act.slope", {{0, -0.001f}});
  auto pruned = prune_model(ctx, *m, 0.01);
  const onnx::ModelProto p = onnx_model(ctx, *pruned);
  REQUIRE_NOTHROW(onnx::checker::check_model(p));

  CHECK(shape_of(p, "stage1.block0.conv1.weight") == Dims{14, 16, 3, 3});
  CHECK(shape_of(p, "stage1.block0.bn1.slope") == Dims{14, 1, 1});
  CHECK(shape_of(p, "stage1.block0.conv2.weight") == Dims{14, 14, 3, 3});
  CHECK(shape_of(p, "stage1.block0.bn2.running_var") == Dims{14});
  CHECK(shape_of(p, "stage1.block0.act.slope") == Dims{16, 1, 1});  // the stream keeps its width
  // Block 0 writes 14 stream channels: the other two get the padded zero channel (index 14).
  Dims spread(16);
  std::iota(spread.begin(), spread.end(), 0);
  spread[5] = 14;
  for (int c = 6; c < 15; ++c) spread[c] = c - 1;
  spread[15] = 14;
  CHECK(int64s(p, "stage1.block0.add.spread.index") == spread);
  CHECK(int64s(p, "stage2.block0.select.index") == without(16, {5, 15}));
  CHECK(shape_of(p, "stage2.block0.conv1.weight") == Dims{31, 14, 3, 3});
  CHECK(shape_of(p, "stage2.block0.conv2.weight") == Dims{31, 31, 3, 3});
  CHECK(int64s(p, "stage3.block0.select.index") == without(32, {0}));
  CHECK(shape_of(p, "stage3.block0.conv1.weight") == Dims{64, 31, 3, 3});
  CHECK_FALSE(has_node(p, "stage1.block0.select"));  // block 0 reads every stream channel
  CHECK_FALSE(has_node(p, "stage3.block0.add.spread"));  // and block 2 writes every one

  std::map<std::string, int> want = {{"Mul", 8}, {"Sub", 1}, {"Conv", 7}, {"BatchNormalization", 7}, {"Relu", 7},
                                     {"Add", 3}, {"Slice", 2}, {"Pad", 2 + 2}, {"Gather", 2 + 2},
                                     {"GlobalAveragePool", 1}, {"Flatten", 1}, {"Gemm", 1}};
  CHECK(op_counts(p) == want);
}

TEST_CASE("ONNX graph of a pruned FCNN: both linear layers narrowed to the live units", "[onnx][prune]") {
  Context ctx;
  auto m = build_model(ctx, spec_for("fcnn-16", 1, 4, 3));
  set_slopes(ctx, *m, "bn1.slope", {{1, 0.0f}, {7, 0.001f}, {8, -0.002f}});
  auto pruned = prune_model(ctx, *m, 0.01);
  const onnx::ModelProto p = onnx_model(ctx, *pruned);
  REQUIRE_NOTHROW(onnx::checker::check_model(p));
  CHECK(shape_of(p, "fc1.weight") == Dims{13, 16});
  CHECK(shape_of(p, "bn1.slope") == Dims{13});
  CHECK(shape_of(p, "fc2.weight") == Dims{3, 13});
  CHECK(shape_of(p, "fc2.bias") == Dims{3});
  const std::map<std::string, int> want = {{"Mul", 3}, {"Sub", 1}, {"Flatten", 1}, {"Gemm", 2},
                                           {"BatchNormalization", 1}, {"Relu", 1}};
  CHECK(op_counts(p) == want);
  CHECK(p.graph().initializer_size() == 3 + 1 + 5 + 2);  // normalisation, fc1 (no bias), bn1 + slope, fc2
}

TEST_CASE("ONNX graph of a pruned wide ResNet: pre-activation blocks read their live channels", "[onnx][prune]") {
  Context ctx;
  auto m = build_model(ctx, spec_for("wrn-10-1", 3, 8, 5));  // one block per group: 16->16, 16->32, 32->64
  set_slopes(ctx, *m, "group1.block0.bn1.slope", {{3, 0.0f}, {4, 0.001f}});
  set_slopes(ctx, *m, "group1.block0.bn2.slope", {{0, 0.001f}});
  set_slopes(ctx, *m, "group2.block0.bn1.slope", {{15, -0.001f}});
  auto pruned = prune_model(ctx, *m, 0.01);
  const onnx::ModelProto p = onnx_model(ctx, *pruned);
  REQUIRE_NOTHROW(onnx::checker::check_model(p));
  CHECK(int64s(p, "group1.block0.select.index") == without(16, {3, 4}));
  CHECK(shape_of(p, "group1.block0.bn1.weight") == Dims{14});
  CHECK(shape_of(p, "group1.block0.conv1.weight") == Dims{15, 14, 3, 3});
  CHECK(shape_of(p, "group1.block0.conv2.weight") == Dims{16, 15, 3, 3});
  CHECK(int64s(p, "group2.block0.select.index") == without(16, {15}));
  CHECK(shape_of(p, "group2.block0.shortcut.weight") == Dims{32, 15, 1, 1});
  CHECK(shape_of(p, "group2.block0.conv1.weight") == Dims{32, 15, 3, 3});
  CHECK(shape_of(p, "final_bn.weight") == Dims{64});
  const std::map<std::string, int> want = {{"Mul", 8}, {"Sub", 1}, {"Conv", 9}, {"BatchNormalization", 7},
                                           {"Relu", 7}, {"Add", 3}, {"Gather", 2}, {"GlobalAveragePool", 1},
                                           {"Flatten", 1}, {"Gemm", 1}};
  CHECK(op_counts(p) == want);
}

TEST_CASE("ONNX graph of zero-width parts: a dead branch, a dead stream, wide blocks with nothing to read",
          "[onnx][prune]") {
  Context ctx;
  SECTION("ResNet block without conv1 filters: its branch is bn2's shift") {
    auto m = build_model(ctx, spec_for("resnet8", 3, 8, 4));
    kill_all(ctx, *m, "stage1.block0.bn1.slope");
    const onnx::ModelProto p = onnx_model(ctx, *prune_model(ctx, *m, 0.01));
    REQUIRE_NOTHROW(onnx::checker::check_model(p));
    CHECK_FALSE(has_node(p, "stage1.block0.conv1"));
    CHECK_FALSE(has_node(p, "stage1.block0.conv2"));
    CHECK(shape_of(p, "stage1.block0.bn2.shift") == Dims{1, 16, 1, 1});
    CHECK(op_counts(p).at("Conv") == 5);
  }
  SECTION("ResNet block whose outputs all die: the next block's conv1 is zeros over one channel") {
    auto m = build_model(ctx, spec_for("resnet8", 3, 8, 4));
    kill_all(ctx, *m, "stage2.block0.act.slope");
    const onnx::ModelProto p = onnx_model(ctx, *prune_model(ctx, *m, 0.01));
    REQUIRE_NOTHROW(onnx::checker::check_model(p));
    CHECK_FALSE(has_node(p, "stage2.block0.conv1"));  // no output survives: the branch is left out
    CHECK(int64s(p, "stage3.block0.conv1.any_channel.index") == Dims{0});
    const onnx::TensorProto& w = initializer(p, "stage3.block0.conv1.weight");
    CHECK(Dims(w.dims().begin(), w.dims().end()) == Dims{64, 1, 3, 3});
    CHECK(std::all_of(w.float_data().begin(), w.float_data().end(), [](float v) { return v == 0.0f; }));
  }
  SECTION("wide blocks: no input channel left, no conv1 filter left") {
    auto m = build_model(ctx, spec_for("wrn-10-1", 3, 8, 5));
    kill_all(ctx, *m, "group2.block0.bn1.slope");  // also its 1x1 shortcut reads nothing
    kill_all(ctx, *m, "group3.block0.bn2.slope");
    const onnx::ModelProto p = onnx_model(ctx, *prune_model(ctx, *m, 0.01));
    REQUIRE_NOTHROW(onnx::checker::check_model(p));
    CHECK(shape_of(p, "group2.block0.conv1.weight") == Dims{32, 1, 3, 3});
    CHECK_FALSE(has_node(p, "group2.block0.shortcut"));
    CHECK_FALSE(has_node(p, "group2.block0.add"));
    CHECK_FALSE(has_node(p, "group3.block0.conv1"));
    CHECK(has_node(p, "group3.block0.shortcut"));
  }
}

TEST_CASE("rotor export writes a checked ONNX file and never replaces one without --force", "[onnx][cli]") {
  Context ctx;
  const std::string dir = temp_dir("onnx-export");
  auto m = build_model(ctx, spec_for("resnet8", 3, 8, 4));
  save_model_file(ctx, dir + "/m.rotor", *m);

  const CommandResult r = rotor_ok("export --model-file " + dir + "/m.rotor");  // default: m.onnx beside it
  CHECK_THAT(r.output, Catch::Contains("opset 13"));
  REQUIRE(std::filesystem::exists(dir + "/m.onnx"));
  REQUIRE_NOTHROW(onnx::checker::check_model(dir + "/m.onnx"));
  onnx::ModelProto read;
  std::ifstream in(dir + "/m.onnx", std::ios::binary);
  REQUIRE(read.ParseFromIstream(&in));
  CHECK(read.graph().node_size() == onnx_model(ctx, *m).graph().node_size());

  write_bytes(dir + "/m.onnx", {1, 2, 3});
  const CommandResult again = run_rotor("export --model-file " + dir + "/m.rotor --out " + dir + "/m.onnx");
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.output, Catch::Contains("m.onnx exists (give --force to replace it)"));
  CHECK(read_bytes(dir + "/m.onnx") == std::vector<uint8_t>{1, 2, 3});
  rotor_ok("export --model-file " + dir + "/m.rotor --out " + dir + "/m.onnx --force --format onnx");
  CHECK_NOTHROW(onnx::checker::check_model(dir + "/m.onnx"));
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("rotor export: bad input gives one clear error and leaves no file", "[onnx][cli]") {
  const std::string dir = temp_dir("onnx-export-bad");
  write_bytes(dir + "/broken.rotor", {'R', 'O', 'T', 'O', 'R', 0, 1});
  CommandResult r = run_rotor("export --model-file " + dir + "/broken.rotor --out " + dir + "/b.onnx");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("rotor export: error:") && Catch::Contains("broken.rotor"));
  CHECK_FALSE(std::filesystem::exists(dir + "/b.onnx"));

  // Flag misuse is a usage error (2), as for every command.
  r = run_rotor("export --model-file " + dir + "/broken.rotor --format tflite");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("--format tflite: the only export format is onnx"));

  r = run_rotor("export --out " + dir + "/b.onnx");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("--model-file is required"));

  Context ctx;
  auto m = build_model(ctx, spec_for("fcnn-8", 1, 4, 3));
  save_model_file(ctx, dir + "/f.rotor", *m);
  r = run_rotor("export --model-file " + dir + "/f.rotor --out " + dir + "/no/such/folder/f.onnx");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("cannot write") && Catch::Contains("no/such/folder/f.onnx"));
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++files;
  CHECK(files == 2);  // broken.rotor and f.rotor: nothing half-written
}
