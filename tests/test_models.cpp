// Model construction: RReLU placement (slope counts) and parameter counts.
#include <catch2/catch.hpp>

#include "engine/context.h"
#include "engine/init.h"
#include "engine/tensor_util.h"
#include "models/model.h"

using namespace rotor;

namespace {

ModelSpec spec_for(const std::string& arch, int64_t c, int64_t hw, int64_t classes, Activation act = Activation::rrelu) {
  ModelSpec s;
  s.arch = arch;
  s.act = act;
  s.in_channels = c;
  s.height = hw;
  s.width = hw;
  s.classes = classes;
  return s;
}

struct Counts {
  int64_t slopes = 0, params = 0;  // params: everything but the slopes (the paper's count)
};

Counts count(Model& m) {
  Counts c;
  for (auto& [name, p] : m.named_parameters())
    (p->group == ParamGroup::slopes ? c.slopes : c.params) += p->value().numel();
  return c;
}

}  // namespace

TEST_CASE("RReLU sits where the paper puts it: slope counts", "[models]") {
  Context ctx;
  const std::vector<std::tuple<std::string, int64_t, int64_t, int64_t>> cases = {
      {"fcnn", 1, 28, 500},       {"resnet20", 3, 32, 672},   {"resnet56", 3, 32, 2016},
      {"resnet110", 3, 32, 4032}, {"wrn-16-4", 3, 32, 1552}, {"wrn-40-4", 3, 32, 5136}};
  for (const auto& [arch, c, hw, slopes] : cases) {
    INFO(arch);
    auto m = build_model(ctx, spec_for(arch, c, hw, 10));
    CHECK(count(*m).slopes == slopes);
    auto relu = build_model(ctx, spec_for(arch, c, hw, 10, Activation::relu));
    CHECK(count(*relu).slopes == 0);
    CHECK(count(*relu).params == count(*m).params);
  }
}

TEST_CASE("parameter counts of the CIFAR ResNets (BN and classifier included)", "[models]") {
  Context ctx;
  CHECK(count(*build_model(ctx, spec_for("resnet20", 3, 32, 10))).params == 269722);
  CHECK(count(*build_model(ctx, spec_for("resnet56", 3, 32, 10))).params == 853018);
  CHECK(count(*build_model(ctx, spec_for("resnet110", 3, 32, 10))).params == 1727962);
  // The classifier follows the data: 100 classes add 64*90 + 90.
  CHECK(count(*build_model(ctx, spec_for("resnet20", 3, 32, 100))).params == 269722 + 64 * 90 + 90);
  // FCNN 784-500-10: 784*500 (no bias: BN follows) + 2*500 (BN) + 500*10 + 10.
  CHECK(count(*build_model(ctx, spec_for("fcnn", 1, 28, 10))).params == 784 * 500 + 1000 + 5010);
}

TEST_CASE("a seed fixes the initial weights, and type-I slopes follow the truncated mixture", "[models][init]") {
  Context a(ContextOptions{Device::cpu, 1, 5}), b(ContextOptions{Device::cpu, 1, 5}), c(ContextOptions{Device::cpu, 1, 6});
  auto ma = build_model(a, spec_for("resnet20", 3, 32, 10)), mb = build_model(b, spec_for("resnet20", 3, 32, 10)),
       mc = build_model(c, spec_for("resnet20", 3, 32, 10));
  const auto wa = host_values(a, ma->named_parameters()[0].second->value());
  CHECK(wa == host_values(b, mb->named_parameters()[0].second->value()));
  CHECK(wa != host_values(c, mc->named_parameters()[0].second->value()));

  // Kaiming: the stem conv (fan_in 27) has variance ~ 2/27.
  double sq = 0;
  for (float v : wa) sq += v * v;
  CHECK(sq / wa.size() == Approx(2.0 / 27).epsilon(0.25));

  int64_t negative = 0, total = 0;
  for (auto& [name, p] : ma->named_slopes()) {
    CHECK(host_values(a, p->value()) == std::vector<float>(p->value().numel(), 1.0f));  // ReLU-equivalent start
    init_slopes_type1(a, p->value());
    for (float s : host_values(a, p->value())) {
      CHECK(std::fabs(s) >= slope_magnitude_min - 1e-6);
      CHECK(std::fabs(s) <= slope_magnitude_max + 1e-6);
      negative += s < 0;
      ++total;
    }
  }
  CHECK(total == 672);
  CHECK(negative > 672 * 0.4);  // signs +-1 with equal odds
  CHECK(negative < 672 * 0.6);
}
