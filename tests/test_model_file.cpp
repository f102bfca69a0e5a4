// Model files: round trip, and every way a file can be wrong.
#include <catch2/catch.hpp>

#include <filesystem>

#include "engine/context.h"
#include "engine/tensor_util.h"
#include "models/model_file.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

ModelSpec small_spec(const std::string& arch) {
  ModelSpec s;
  s.arch = arch;
  s.in_channels = 3;
  s.height = 8;
  s.width = 8;
  s.classes = 4;
  s.mean = {1, 2, 3};
  s.std = {4, 5, 6};
  s.class_names = {"a", "b", "c", "d"};
  return s;
}

}  // namespace

TEST_CASE("a model file round-trips every parameter, buffer and the spec", "[files]") {
  Context ctx;
  auto model = build_model(ctx, small_spec("resnet8"));
  // Make buffers non-default so they are really saved.
  for (auto& [name, b] : model->named_buffers()) fill(ctx, *b, 0.37f);
  const std::string path = temp_dir("model") + "/m.rotor";
  Json extra = Json::object();
  extra.set("note", "hello");
  save_model_file(ctx, path, *model, extra);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  Context ctx2(ContextOptions{Device::cpu, 1, 99});  // another seed: other initial weights
  auto loaded = load_model_file(ctx2, path);
  CHECK(loaded->spec().arch == "resnet8");
  CHECK(loaded->spec().mean == std::vector<double>{1, 2, 3});
  CHECK(loaded->spec().class_names[3] == "d");
  auto a = model->named_parameters(), b = loaded->named_parameters();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK(host_values(ctx, a[i].second->value()) == host_values(ctx2, b[i].second->value()));
  }
  for (auto& [name, t] : loaded->named_buffers()) CHECK(host_values(ctx2, *t)[0] == 0.37f);
  CHECK(read_tensor_file(path).header.at("note").as_string() == "hello");
}

TEST_CASE("corrupt, truncated and foreign files are refused with one clear error", "[files]") {
  Context ctx;
  auto model = build_model(ctx, small_spec("fcnn-16"));
  const std::string dir = temp_dir("model-bad");
  const std::string path = dir + "/m.rotor";
  save_model_file(ctx, path, *model);
  const auto good = read_bytes(path);

  auto flipped = good;
  flipped[good.size() / 2] ^= 0x01;
  write_bytes(dir + "/flip.rotor", flipped);
  CHECK_THROWS_WITH(load_model_file(ctx, dir + "/flip.rotor"), Catch::Contains("flip.rotor") && Catch::Contains("checksum"));

  write_bytes(dir + "/short.rotor", std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 3));
  CHECK_THROWS_WITH(load_model_file(ctx, dir + "/short.rotor"), Catch::Contains("short.rotor"));

  write_bytes(dir + "/text.rotor", {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '\n'});
  CHECK_THROWS_WITH(load_model_file(ctx, dir + "/text.rotor"), Catch::Contains("not a rotor model"));

  CHECK_THROWS_WITH(load_model_file(ctx, dir + "/none.rotor"), Catch::Contains("cannot open") && Catch::Contains("none.rotor"));

  // A file of another architecture cannot be loaded into this one.
  auto other = build_model(ctx, small_spec("fcnn-32"));
  const TensorFile f = read_tensor_file(path);
  CHECK_THROWS_WITH(load_module_state(ctx, *other, f, path),
                    Catch::Contains("different architecture") && Catch::Contains("fc1.weight"));
  auto resnet = build_model(ctx, small_spec("resnet8"));
  CHECK_THROWS_WITH(load_module_state(ctx, *resnet, f, path), Catch::Contains("no tensor 'stem_conv.weight'"));

  // A tensor file that is not a model file.
  const Tensor t = Tensor::host({2});
  t.f32()[0] = 1;
  t.f32()[1] = 2;
  write_tensor_file(ctx, dir + "/ckpt.rotor", Json::object(), {{"x", &t}});
  CHECK_THROWS_WITH(load_model_file(ctx, dir + "/ckpt.rotor"), Catch::Contains("is not a model file"));
  CHECK(to_host(ctx, *read_tensor_file(dir + "/ckpt.rotor").find("x")).f32()[1] == 2.0f);
}

TEST_CASE("model specs name what is wrong", "[files][models]") {
  Context ctx;
  CHECK_THROWS_WITH(build_model(ctx, small_spec("resnet21")), Catch::Contains("6n+2"));
  CHECK_THROWS_WITH(build_model(ctx, small_spec("wrn-16")), Catch::Contains("unknown model 'wrn-16'"));
  CHECK_THROWS_WITH(build_model(ctx, small_spec("wrn-15-2")), Catch::Contains("6n+4"));
  ModelSpec s = small_spec("fcnn");
  s.classes = 1;
  CHECK_THROWS_WITH(build_model(ctx, s), Catch::Contains("at least 2 classes"));
  Json j = small_spec("fcnn").to_json();
  j.set("act", "tanh");
  CHECK_THROWS_WITH(ModelSpec::from_json(j), Catch::Contains("unknown activation 'tanh'"));
  CHECK(ModelSpec::from_json(small_spec("wrn-16-4").to_json()).to_json() == small_spec("wrn-16-4").to_json());
}
