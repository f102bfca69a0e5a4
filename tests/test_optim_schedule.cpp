// Optimizer steps and learning-rate schedules against values computed by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/context.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/schedule.h"
#include "engine/tensor_util.h"
#include "kernels/optimizer.h"

using namespace rotor;

namespace {

class TwoGroups : public Module {
 public:
  TwoGroups(Context& ctx)
      : w(add_parameter(ctx, "w", from_host(ctx, {2}, {1.0f, -2.0f}), ParamGroup::weights)),
        s(add_parameter(ctx, "s", from_host(ctx, {1}, {0.5f}), ParamGroup::slopes)) {}
  Parameter& w;
  Parameter& s;
};

void set_grad(Context& ctx, Parameter& p, std::vector<float> g) { copy(ctx, from_host(ctx, p.value().shape(), g), p.grad()); }

}  // namespace

TEST_CASE("SGD with momentum, Nesterov and per-group weight decay, by hand", "[optim]") {
  Context ctx;
  TwoGroups m(ctx);
  OptimizerConfig c;
  c.momentum = 0.9;
  c.nesterov = true;
  c.group(ParamGroup::weights).weight_decay = 0.1;
  c.group(ParamGroup::slopes).weight_decay = 0.0;  // slopes decay separately
  Optimizer opt(ctx, m.named_parameters(), c);

  // Step 1: g = grad + wd*p; buf = g; step = g + 0.9*buf; p -= lr*step.
  set_grad(ctx, m.w, {0.5f, 1.0f});
  set_grad(ctx, m.s, {0.2f});
  opt.step(0.1);
  // w0: g = 0.5 + 0.1*1 = 0.6; step = 0.6 + 0.54 = 1.14; p = 1 - 0.114 = 0.886
  // w1: g = 1 + 0.1*-2 = 0.8; step = 1.52; p = -2 - 0.152 = -2.152
  // s:  g = 0.2; step = 0.38; p = 0.5 - 0.038 = 0.462
  auto w = host_values(ctx, m.w.value());
  CHECK(w[0] == Approx(0.886).epsilon(1e-6));
  CHECK(w[1] == Approx(-2.152).epsilon(1e-6));
  CHECK(host_values(ctx, m.s.value())[0] == Approx(0.462).epsilon(1e-6));
  // The step zeroed the gradients.
  CHECK(host_values(ctx, m.w.grad()) == std::vector<float>{0.0f, 0.0f});

  // Step 2 (w0): g = 0.5 + 0.1*0.886 = 0.5886; buf = 0.9*0.6 + 0.5886 = 1.1286;
  // step = 0.5886 + 0.9*1.1286 = 1.60434; p = 0.886 - 0.160434 = 0.725566
  set_grad(ctx, m.w, {0.5f, 0.0f});
  opt.step(0.1);
  CHECK(host_values(ctx, m.w.value())[0] == Approx(0.725566).epsilon(1e-5));
  CHECK(opt.steps_taken() == 2);
}

TEST_CASE("frozen parameters are neither written nor updated", "[optim]") {
  Context ctx;
  TwoGroups m(ctx);
  m.w.set_trainable(false);
  OptimizerConfig c;
  c.momentum = 0;
  Optimizer opt(ctx, m.named_parameters(), c);
  set_grad(ctx, m.s, {1.0f});
  opt.step(0.5);
  CHECK(host_values(ctx, m.w.value()) == std::vector<float>{1.0f, -2.0f});
  CHECK(host_values(ctx, m.s.value())[0] == Approx(0.0));
}

TEST_CASE("the update kernels zero every gradient they read", "[optim]") {
  // The zeroing is part of the update, so Optimizer::step needs no pass
  // (on the GPU: no launch) per parameter to clear the gradients.
  Context ctx;
  std::vector<double> p1 = {1.0, -2.0, 3.0}, g1 = {0.5, -0.25, 2.0}, b1(3, 0.0);
  std::vector<double> p2 = {0.5}, g2 = {-1.0}, m2(1, 0.0), v2(1, 0.0);
  SECTION("SGD with momentum") {
    ParamSlot<double> slots[] = {{p1.data(), g1.data(), b1.data(), nullptr, 3},
                                 {p2.data(), g2.data(), m2.data(), nullptr, 1}};
    cpu::sgd_update<double>(ctx, slots, 2, SgdHyper{0.1, 0.9, 0.01, true, true});
    CHECK(p1[0] == Approx(1.0 - 0.1 * (0.51 + 0.9 * 0.51)));
  }
  SECTION("SGD without momentum") {
    ParamSlot<double> slots[] = {{p1.data(), g1.data(), nullptr, nullptr, 3},
                                 {p2.data(), g2.data(), nullptr, nullptr, 1}};
    cpu::sgd_update<double>(ctx, slots, 2, SgdHyper{0.1, 0.0, 0.0, false, true});
    CHECK(p1[0] == Approx(0.95));
  }
  SECTION("Adam") {
    std::vector<double> v1(3, 0.0);
    ParamSlot<double> slots[] = {{p1.data(), g1.data(), b1.data(), v1.data(), 3},
                                 {p2.data(), g2.data(), m2.data(), v2.data(), 1}};
    cpu::adam_update<double>(ctx, slots, 2, AdamHyper{0.1, 0.9, 0.999, 1e-8, 0, 1});
    CHECK(p1[0] == Approx(0.9));
  }
  CHECK(g1 == std::vector<double>{0.0, 0.0, 0.0});
  CHECK(g2 == std::vector<double>{0.0});
}

TEST_CASE("steps on gradients accumulated by backward equal the update followed by zeroing", "[optim]") {
  // Each backward ADDS to the parameter gradients, so a step that left a
  // gradient non-zero would feed it into the next step. Reference: the
  // update written out in float in the CPU kernel's order, then the
  // gradient set to zero (what Optimizer::step did with one fill per
  // parameter before the kernels zeroed the gradients themselves).
  Context ctx;
  TwoGroups m(ctx);
  OptimizerConfig c;
  c.momentum = 0.9;
  c.nesterov = true;
  c.group(ParamGroup::weights).weight_decay = 5e-4;
  c.group(ParamGroup::slopes).weight_decay = 1e-3;
  Optimizer opt(ctx, m.named_parameters(), c);
  std::vector<float> p = {1.0f, -2.0f, 0.5f}, buf(3, 0.0f);  // w0, w1, s
  const float wd[] = {5e-4f, 5e-4f, 1e-3f}, lr = 0.1f, mom = 0.9f;
  const std::vector<std::vector<float>> grads = {{0.5f, 1.0f, 0.2f}, {-0.3f, 0.25f, 0.7f}, {0.125f, -1.5f, -0.4f}};
  for (size_t step = 0; step < grads.size(); ++step) {
    const std::vector<float>& g = grads[step];
    axpy(ctx, 1.0f, from_host(ctx, {2}, {g[0], g[1]}), m.w.grad());  // backward's +=
    axpy(ctx, 1.0f, from_host(ctx, {1}, {g[2]}), m.s.grad());
    opt.step(lr);
    for (int i = 0; i < 3; ++i) {
      float gi = g[i] + wd[i] * p[i];
      const float b = step == 0 ? gi : mom * buf[i] + gi;
      buf[i] = b;
      gi = gi + mom * b;
      p[i] -= lr * gi;
    }
    INFO("step " << step);
    CHECK(host_values(ctx, m.w.value()) == std::vector<float>{p[0], p[1]});
    CHECK(host_values(ctx, m.s.value()) == std::vector<float>{p[2]});
    CHECK(host_values(ctx, m.w.grad()) == std::vector<float>{0.0f, 0.0f});
    CHECK(host_values(ctx, m.s.grad()) == std::vector<float>{0.0f});
  }
}

TEST_CASE("Adam with bias correction, by hand", "[optim]") {
  Context ctx;
  double p = 1.0, m = 0, v = 0;
  // Two steps with g = 0.5 then g = -0.25, lr 0.1, betas 0.9/0.999, eps 1e-8.
  // Step 1: m = 0.05, v = 0.00025; mhat = 0.5, vhat = 0.25; p -= 0.1 * 0.5/(0.5+1e-8) -> 0.9 (almost)
  ParamSlot<double> slot{&p, nullptr, &m, &v, 1};
  double g = 0.5;
  slot.grad = &g;
  cpu::adam_update<double>(ctx, &slot, 1, AdamHyper{0.1, 0.9, 0.999, 1e-8, 0, 1});
  CHECK(p == Approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8)).epsilon(1e-12));
  // Step 2: m = 0.9*0.05 - 0.025 = 0.02; v = 0.999*0.00025 + 0.001*0.0625 = 0.00031225
  // mhat = 0.02/0.19, vhat = 0.00031225/0.001999
  g = -0.25;
  const double before = p;
  cpu::adam_update<double>(ctx, &slot, 1, AdamHyper{0.1, 0.9, 0.999, 1e-8, 0, 2});
  const double mhat = 0.02 / (1 - 0.81), vhat = 0.00031225 / (1 - 0.999 * 0.999);
  CHECK(m == Approx(0.02).epsilon(1e-12));
  CHECK(v == Approx(0.00031225).epsilon(1e-12));
  CHECK(p == Approx(before - 0.1 * mhat / (std::sqrt(vhat) + 1e-8)).epsilon(1e-9));
}

TEST_CASE("learning-rate schedules, by hand", "[schedule]") {
  using K = ScheduleConfig::Kind;
  ScheduleConfig c;
  c.lr = 0.1;
  SECTION("constant") {
    c.kind = K::constant;
    CHECK(learning_rate(c, 0, 10, 4) == 0.1);
    CHECK(learning_rate(c, 39, 10, 4) == 0.1);
  }
  SECTION("multistep divides by 10 at 50% and 75% of the epochs") {
    c.kind = K::multistep;
    // 8 epochs of 10 steps: milestones at epochs 4 and 6.
    CHECK(learning_rate(c, 39, 10, 8) == Approx(0.1));
    CHECK(learning_rate(c, 40, 10, 8) == Approx(0.01));
    CHECK(learning_rate(c, 59, 10, 8) == Approx(0.01));
    CHECK(learning_rate(c, 60, 10, 8) == Approx(0.001));
    c.milestones = {1, 3};
    CHECK(learning_rate(c, 9, 10, 8) == Approx(0.1));
    CHECK(learning_rate(c, 10, 10, 8) == Approx(0.01));
    CHECK(learning_rate(c, 30, 10, 8) == Approx(0.001));
  }
  SECTION("cosine from lr to 0") {
    c.kind = K::cosine;
    CHECK(learning_rate(c, 0, 10, 10) == Approx(0.1));
    CHECK(learning_rate(c, 50, 10, 10) == Approx(0.05));
    CHECK(learning_rate(c, 25, 10, 10) == Approx(0.05 * (1 + std::cos(M_PI / 4))));
    c.warmup = 0.1;  // 10 warm-up steps of 100: 0.01, 0.02, ..., then cosine over 90
    CHECK(learning_rate(c, 0, 10, 10) == Approx(0.01));
    CHECK(learning_rate(c, 9, 10, 10) == Approx(0.1));
    CHECK(learning_rate(c, 55, 10, 10) == Approx(0.05));
  }
  SECTION("onecycle as PyTorch's OneCycleLR (cosine, 15% rising)") {
    c.kind = K::onecycle;
    // 100 steps: phase 1 ends at step 14 (0.15*100 - 1), phase 2 at 99.
    const double initial = 0.1 / 25, final_lr = initial / 1e4;
    CHECK(learning_rate(c, 0, 10, 10) == Approx(initial));
    CHECK(learning_rate(c, 14, 10, 10) == Approx(0.1));
    CHECK(learning_rate(c, 7, 10, 10) == Approx((initial + 0.1) / 2));  // halfway up: cos(pi/2) = 0
    CHECK(learning_rate(c, 99, 10, 10) == Approx(final_lr));
    // Phase 2 spans 85 steps; step 14 + 85/3 is a third of the way down: (1 + cos(pi/3)) / 2 = 0.75.
    ScheduleConfig c3 = c;
    CHECK(learning_rate(c3, 14, 10, 10) == Approx(0.1));
    const double third = final_lr + (0.1 - final_lr) * 0.75;
    // 85/3 is not an integer step: interpolate between the neighbours' formula values instead.
    const double pct = (42.0 - 14.0) / 85.0;
    CHECK(learning_rate(c, 42, 10, 10) == Approx(final_lr + (0.1 - final_lr) / 2 * (1 + std::cos(M_PI * pct))));
    CHECK(learning_rate(c, 42, 10, 10) < third + 0.01);
    CHECK(learning_rate(c, 42, 10, 10) > third - 0.01);
  }
  CHECK_THROWS_WITH(parse_schedule_kind("linear"), Catch::Contains("unknown schedule 'linear'"));
}
