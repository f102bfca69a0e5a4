// The contracts of kernels/*.h on the CPU twins (tests/support/
// kernel_contracts.h); tests/gpu/test_gpu_kernel_contracts.cpp runs the same
// checks on the CUDA twins. gemm has no CUDA twin: its contract is checked
// here alone.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "kernels/gemm.h"
#include "kernels/softmax_ce.h"
#include "tests/support/kernel_contracts.h"

using namespace rotor;
using namespace rotor::test;
using namespace rotor::test::contracts;

namespace {

class CpuSide : public Side {
 public:
  Context& ctx() override { return ctx_; }
  float* put(const std::vector<float>& v) override { return floats_.emplace_back(v).data(); }
  int32_t* put_index(const std::vector<int32_t>& v) override { return ints_.emplace_back(v).data(); }
  std::vector<float> get(const float* p, size_t n) override { return {p, p + n}; }

 private:
  Context ctx_;
  std::deque<std::vector<float>> floats_;
  std::deque<std::vector<int32_t>> ints_;
};

struct CpuKernels {
  static constexpr auto relu_backward = &cpu::relu_backward<float>;
  static constexpr auto rrelu_backward = &cpu::rrelu_backward<float>;
  static constexpr auto batch_norm_backward = &cpu::batch_norm_backward<float>;
  static constexpr auto bn_rrelu_backward = &cpu::bn_rrelu_backward<float>;
  static constexpr auto bn_add_act_backward = &cpu::bn_add_act_backward<float>;
  static constexpr auto conv2d_backward_data = &cpu::conv2d_backward_data<float>;
  static constexpr auto conv2d_backward_weight = &cpu::conv2d_backward_weight<float>;
  static constexpr auto linear_backward_data = &cpu::linear_backward_data<float>;
  static constexpr auto linear_backward_weight = &cpu::linear_backward_weight<float>;
  static constexpr auto global_avg_pool_backward = &cpu::global_avg_pool_backward<float>;
  static constexpr auto shortcut_a_backward = &cpu::shortcut_a_backward<float>;
  static constexpr auto channel_gather_backward = &cpu::channel_gather_backward<float>;
  static constexpr auto dropout_backward = &cpu::dropout_backward<float>;
  static constexpr auto sgd_update = &cpu::sgd_update<float>;
};

constexpr double tol = 1e-5;

}  // namespace

TEST_CASE("kernel contracts on the CPU twins: activation.h", "[contracts]") {
  CpuSide side;
  check_activation<CpuKernels>(side, tol);
}

TEST_CASE("kernel contracts on the CPU twins: batch_norm.h and bn_rrelu.h", "[contracts]") {
  CpuSide side;
  check_batch_norm<CpuKernels>(side, tol);
}

TEST_CASE("kernel contracts on the CPU twins: bn_add_act.h", "[contracts]") {
  CpuSide side;
  check_bn_add_act<CpuKernels>(side, tol);
}

TEST_CASE("kernel contracts on the CPU twins: conv2d linear pool shortcut channel_select dropout", "[contracts]") {
  CpuSide side;
  check_layers<CpuKernels>(side, tol);
}

TEST_CASE("kernel contracts on the CPU twins: optimizer.h (SGD without momentum has no buffer)", "[contracts]") {
  CpuSide side;
  check_sgd_without_buffer<CpuKernels>(side);
}

TEST_CASE("kernel contracts: gemm with beta 0 does not read C", "[contracts][gemm]") {
  Context ctx;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t k : {0, 3, 300}) {  // nothing to multiply, one panel, several panels
    INFO("k = " << k);
    const std::vector<float> a = ramp(4 * k, -1, 0.1), b = ramp(k * 5, 0.5, -0.1);
    std::vector<float> c(20, nan), ref(20, 0.0f);
    cpu::gemm<float>(ctx, false, false, 4, 5, k, 1.0f, a.data(), std::max<int64_t>(k, 1), b.data(), 5, 0.0f, c.data(), 5);
    cpu::gemm<float>(ctx, false, false, 4, 5, k, 1.0f, a.data(), std::max<int64_t>(k, 1), b.data(), 5, 0.0f, ref.data(), 5);
    REQUIRE_CLOSE("gemm beta 0 over NaN", c, ref, 0.0, 0.0);
  }
}

TEST_CASE("kernel contracts on the CPU twins: softmax_ce.h (null, assign, accumulate)", "[contracts][softmax_ce]") {
  Context ctx;
  const std::vector<float> logits = {0.5f, -1.0f, 2.0f, 0.0f, 1.0f, -0.5f};  // (2, 3)
  const std::vector<int32_t> labels = {2, 0};
  const float dloss = 1.0f;
  // A null dlogits is skipped, not written.
  cpu::softmax_cross_entropy_backward<float>(ctx, 2, 3, logits.data(), labels.data(), &dloss, nullptr,
                                             GradMode::assign);
  // assign does not read the old value (NaN stays out); accumulate adds.
  std::vector<float> assigned(6, std::numeric_limits<float>::quiet_NaN()), added(6, 1.0f);
  cpu::softmax_cross_entropy_backward<float>(ctx, 2, 3, logits.data(), labels.data(), &dloss, assigned.data(),
                                             GradMode::assign);
  cpu::softmax_cross_entropy_backward<float>(ctx, 2, 3, logits.data(), labels.data(), &dloss, added.data(),
                                             GradMode::accumulate);
  for (size_t i = 0; i < assigned.size(); ++i) {
    CHECK(std::isfinite(assigned[i]));
    CHECK(added[i] == Approx(1.0f + assigned[i]).margin(1e-6));
  }
}
