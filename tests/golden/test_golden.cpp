// The PyTorch reference cases: the CPU engine in float32, and the CPU
// kernels in double precision (which must agree to ~1e-10).
#include <catch2/catch.hpp>

#include "kernels/batch_norm.h"
#include "kernels/bn_rrelu.h"
#include "kernels/conv2d.h"
#include "kernels/optimizer.h"
#include "tests/golden/golden_checks.h"
#include "tests/support/tolerance.h"

using namespace rotor;
using namespace rotor::test;

TEST_CASE("golden: every op on the CPU engine (float32)", "[golden]") {
  Context ctx;
  for (const char* c : {"conv_3x3_s1", "conv_3x3_s2_rect", "conv_1x1_s2"}) {
    SECTION(c) { check_golden_conv(ctx, c); }
  }
  SECTION("batchnorm2d_train") { check_golden_batchnorm(ctx, "batchnorm2d_train"); }
  SECTION("batchnorm1d_train") { check_golden_batchnorm(ctx, "batchnorm1d_train"); }
  SECTION("bn_rrelu_train") { check_golden_bn_rrelu(ctx); }
  SECTION("rrelu") { check_golden_rrelu(ctx); }
  SECTION("linear") { check_golden_linear(ctx); }
  SECTION("softmax_cross_entropy") { check_golden_softmax_ce(ctx); }
  SECTION("shortcut_a") { check_golden_shortcut(ctx); }
  SECTION("global_avg_pool") { check_golden_pool(ctx); }
}

TEST_CASE("golden: optimizers on the CPU engine", "[golden][optim]") {
  Context ctx;
  for (const char* c : {"optim_sgd_nesterov_wd", "optim_sgd_momentum", "optim_adam"}) {
    SECTION(c) { check_golden_optimizer(ctx, c); }
  }
}

TEST_CASE("golden: tiny RReLU ResNet end to end on the CPU engine", "[golden][resnet]") {
  Context ctx;
  check_golden_tiny_resnet(ctx);
}

TEST_CASE("golden: CPU kernels in double precision agree to 1e-10", "[golden][double]") {
  Context ctx;
  const double tol = 1e-10;
  for (const std::string c : {"conv_3x3_s1", "conv_3x3_s2_rect", "conv_1x1_s2"}) {
    const NpyArray x = golden(c, "x"), w = golden(c, "w"), y = golden(c, "y"), dy = golden(c, "dy");
    const int64_t k = w.shape[2], pad = (k - 1) / 2;
    ConvShape s{x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0], k, k, 1, pad};
    while (s.h_out() != y.shape[2]) ++s.stride;
    std::vector<double> out(y.values.size()), dx(x.values.size()), dw(w.values.size(), 0.0);
    cpu::conv2d_forward<double>(ctx, s, x.values.data(), w.values.data(), out.data());
    cpu::conv2d_backward_data<double>(ctx, s, dy.values.data(), w.values.data(), dx.data(), GradMode::assign);
    cpu::conv2d_backward_weight<double>(ctx, s, x.values.data(), dy.values.data(), dw.data());
    REQUIRE_CLOSE(c + " y", out, y.values, tol, tol);
    REQUIRE_CLOSE(c + " dx", dx, golden(c, "dx").values, tol, tol);
    REQUIRE_CLOSE(c + " dw", dw, golden(c, "dw").values, tol, tol);
  }
  {
    const std::string c = "bn_rrelu_train";
    const NpyArray x = golden(c, "x");
    const ChannelShape s{x.shape[0], x.shape[1], x.shape[2] * x.shape[3]};
    const auto gamma = golden(c, "gamma").values, beta = golden(c, "beta").values, b = golden(c, "b").values;
    std::vector<double> y(x.values.size()), rm(s.c, 0.0), rv(s.c, 1.0), mean(s.c), invstd(s.c);
    cpu::bn_rrelu_forward_train<double>(ctx, s, x.values.data(), gamma.data(), beta.data(), b.data(), rm.data(),
                                        rv.data(), 0.1, 1e-5, y.data(), mean.data(), invstd.data());
    REQUIRE_CLOSE("bn_rrelu y", y, golden(c, "y").values, tol, tol);
    REQUIRE_CLOSE("bn_rrelu running_mean", rm, golden(c, "running_mean_out").values, tol, tol);
    REQUIRE_CLOSE("bn_rrelu running_var", rv, golden(c, "running_var_out").values, tol, tol);
    std::vector<double> dx(x.values.size()), dg(s.c, 0.0), db(s.c, 0.0), ds(s.c, 0.0);
    cpu::bn_rrelu_backward<double>(ctx, s, x.values.data(), golden(c, "dy").values.data(), gamma.data(), beta.data(),
                                   b.data(), mean.data(), invstd.data(), dx.data(), GradMode::assign, dg.data(),
                                   db.data(), ds.data());
    REQUIRE_CLOSE("bn_rrelu dx", dx, golden(c, "dx").values, tol, tol);
    REQUIRE_CLOSE("bn_rrelu dgamma", dg, golden(c, "dgamma").values, tol, tol);
    REQUIRE_CLOSE("bn_rrelu dbeta", db, golden(c, "dbeta").values, tol, tol);
    REQUIRE_CLOSE("bn_rrelu dslope", ds, golden(c, "db").values, tol, tol);
  }
  {
    const std::string c = "optim_adam";
    const NpyArray p0 = golden(c, "param_in"), grads = golden(c, "grads");
    std::vector<double> p = p0.values, m(p.size(), 0.0), v(p.size(), 0.0);
    for (int64_t step = 0; step < grads.shape[0]; ++step) {
      // The update zeroes the gradient it reads: give it a copy.
      std::vector<double> g(grads.values.begin() + step * p.size(), grads.values.begin() + (step + 1) * p.size());
      ParamSlot<double> slot{p.data(), g.data(), m.data(), v.data(), static_cast<int64_t>(p.size())};
      cpu::adam_update<double>(ctx, &slot, 1, AdamHyper{1e-3, 0.9, 0.999, 1e-8, 0, step + 1});
      REQUIRE_CLOSE(c + " step", p, golden(c, "param_" + std::to_string(step + 1)).values, tol, tol);
    }
  }
}
