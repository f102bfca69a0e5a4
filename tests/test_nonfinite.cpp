// count_nonfinite (kernels/nonfinite.h) on the CPU, its tensor entry point
// (engine/ops.h), and the trainer's refusal to write a model holding NaN,
// which counts with it (tests/gpu/test_gpu_nonfinite.cpp: the CUDA twin).
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <limits>

#include "apps/trainer.h"
#include "engine/context.h"
#include "engine/ops.h"
#include "engine/tensor_util.h"
#include "kernels/nonfinite.h"
#include "models/model.h"

using namespace rotor;

TEST_CASE("count_nonfinite counts NaN and both infinities, not the finite extremes", "[nonfinite]") {
  Context ctx;
  constexpr float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {1.0f, nan, FLT_MAX, -inf, -FLT_MAX, FLT_MIN / 4, inf, 0.0f, -nan};
  int64_t count = 10;
  cpu::count_nonfinite<float>(ctx, static_cast<int64_t>(x.size()), x.data(), &count);
  CHECK(count == 14);  // adds to the counter
  const Tensor t = from_host(ctx, {static_cast<int64_t>(x.size())}, x);
  CHECK(count_nonfinite(ctx, t) == 4);
  CHECK(count_nonfinite(ctx, from_host(ctx, {3}, {1, 2, 3})) == 0);
  CHECK_THROWS_WITH(count_nonfinite(ctx, Tensor::host({2}, DType::i64)), Catch::Contains("float32"));
}

TEST_CASE("require_finite_model names the tensor and how many values are not finite", "[nonfinite]") {
  Context ctx;
  ModelSpec s;
  s.arch = "fcnn";
  s.in_channels = 1;
  s.height = s.width = 4;
  s.classes = 3;
  auto model = build_model(ctx, s);
  REQUIRE_NOTHROW(require_finite_model(ctx, *model, "model.rotor"));
  auto [name, p] = model->named_parameters().back();
  float* v = p->value().f32();
  v[0] = std::numeric_limits<float>::quiet_NaN();
  v[p->value().numel() - 1] = -std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(require_finite_model(ctx, *model, "model.rotor"),
                    Catch::Contains("not writing model.rotor: " + name + " holds 2 non-finite values"));
}
