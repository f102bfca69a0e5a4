// The PyTorch reference cases (tests/golden/golden_checks.h) on a CUDA
// context: the same checks and tolerances the CPU engine passes.
#include <catch2/catch.hpp>

#include "tests/golden/golden_checks.h"

using namespace rotor;
using namespace rotor::test;

namespace {
ContextOptions cuda_options() {
  ContextOptions o;
  o.device = Device::cuda;
  o.precision = Precision::fp32;  // the cases are FP32 PyTorch results, held to FP32 tolerances
  return o;
}
}  // namespace

TEST_CASE("gpu golden: every op on the CUDA engine (float32)", "[gpu][golden]") {
  Context ctx(cuda_options());
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

TEST_CASE("gpu golden: optimizers on the CUDA engine", "[gpu][golden][optim]") {
  Context ctx(cuda_options());
  for (const char* c : {"optim_sgd_nesterov_wd", "optim_sgd_momentum", "optim_adam"}) {
    SECTION(c) { check_golden_optimizer(ctx, c); }
  }
}

TEST_CASE("gpu golden: tiny RReLU ResNet end to end on the CUDA engine", "[gpu][golden][resnet]") {
  Context ctx(cuda_options());
  check_golden_tiny_resnet(ctx);
}
