// Per-class accuracy (apps/class_accuracy.h): counts by hand, ties resolved
// like the device's count_correct, and the same overall accuracy and loss as
// evaluate() on a real network.
#include <catch2/catch.hpp>

#include "apps/class_accuracy.h"
#include "engine/context.h"
#include "engine/rng.h"

using namespace rotor;

TEST_CASE("per-class accuracy counts each class and takes the first maximum", "[class-accuracy]") {
  ClassAccuracy a(3);
  // Rows: predicted 0, 2, 1, 0 (a tie between 0 and 1 goes to 0), 2.
  a.add({5, 1, 0, /**/ 0, 1, 2, /**/ 0, 3, 1, /**/ 4, 4, 0, /**/ 1, 1, 9}, {0, 2, 2, 1, 2});
  CHECK(a.total == std::vector<int64_t>{1, 1, 3});
  CHECK(a.correct == std::vector<int64_t>{1, 0, 2});
  CHECK(a.count() == 5);
  CHECK(a.accuracy() == Approx(3.0 / 5));
  CHECK(a.of(2) == Approx(2.0 / 3));
  CHECK(ClassAccuracy(4).of(3) == 0);
  const Json j = class_accuracy_json(a, {"cat", "dog", "emu"});
  CHECK(j.at("classes").as_array()[2].at("class").as_string() == "emu");
  CHECK(j.at("classes").as_array()[2].at("images").as_int() == 3);
  CHECK_THAT(class_accuracy_table(a, {"cat", "dog", "emu"}), Catch::Contains("emu") && Catch::Contains("66.67%"));
  CHECK_THROWS_WITH(a.add({1, 2, 3}, {3}), Catch::Contains("label 3 is not in [0, 3)"));
}

TEST_CASE("per-class evaluation agrees with evaluate() on a network", "[class-accuracy]") {
  Context ctx;
  ModelSpec s;
  s.arch = "fcnn-8";
  s.in_channels = 1;
  s.height = s.width = 4;
  s.classes = 3;
  auto model = build_model(ctx, s);
  Rng rng(9);
  Dataset d;
  d.channels = 1;
  d.height = d.width = 4;
  for (int i = 0; i < 257; ++i) {
    for (int p = 0; p < 16; ++p) d.images.push_back(static_cast<uint8_t>(rng.below(256)));
    d.labels.push_back(static_cast<int32_t>(rng.below(3)));
  }
  const DeviceDataset data(ctx, d);
  int64_t last = 0, calls = 0;
  const ClassAccuracy a = evaluate_by_class(ctx, *model, data, 100, [&](int64_t done) {
    CHECK(done > last);
    last = done;
    ++calls;
  });
  const EvalResult r = evaluate(ctx, *model, data, 100);
  CHECK(a.count() == 257);
  CHECK(a.accuracy() == r.accuracy);
  CHECK(a.loss() == Approx(r.loss).epsilon(1e-5));
  CHECK(calls == 3);
  CHECK(last == 257);
}
