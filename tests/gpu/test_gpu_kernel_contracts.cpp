// The contracts of kernels/*.h on the CUDA twins: the checks of
// tests/support/kernel_contracts.h that tests/test_kernel_contracts.cpp runs
// on the CPU twins (assign does not read, accumulate adds, parameter
// gradients add, nullptr gradients are skipped, ...).
#include <catch2/catch.hpp>

#include "tests/support/kernel_contracts.h"
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;
using namespace rotor::test::contracts;

namespace {

class GpuSide : public Side {
 public:
  Context& ctx() override { return ctx_; }
  float* put(const std::vector<float>& v) override { return fp(tensors_.emplace_back(to_gpu(ctx_, v))); }
  int32_t* put_index(const std::vector<int32_t>& v) override {
    return tensors_.emplace_back(to_gpu(ctx_, v)).data<int32_t>();
  }
  std::vector<float> get(const float* p, size_t n) override {
    std::vector<float> v(n);
    copy_bytes(ctx_, v.data(), Device::cpu, p, Device::cuda, n * sizeof(float));
    return v;
  }

 private:
  Context ctx_{cuda_context_options()};
  std::deque<Tensor> tensors_;
};

struct CudaKernels {
  static constexpr auto relu_backward = &cuda::relu_backward;
  static constexpr auto rrelu_backward = &cuda::rrelu_backward;
  static constexpr auto batch_norm_backward = &cuda::batch_norm_backward;
  static constexpr auto bn_rrelu_backward = &cuda::bn_rrelu_backward;
  static constexpr auto bn_add_act_backward = &cuda::bn_add_act_backward;
  static constexpr auto conv2d_backward_data = &cuda::conv2d_backward_data;
  static constexpr auto conv2d_backward_weight = &cuda::conv2d_backward_weight;
  static constexpr auto linear_backward_data = &cuda::linear_backward_data;
  static constexpr auto linear_backward_weight = &cuda::linear_backward_weight;
  static constexpr auto global_avg_pool_backward = &cuda::global_avg_pool_backward;
  static constexpr auto shortcut_a_backward = &cuda::shortcut_a_backward;
  static constexpr auto channel_gather_backward = &cuda::channel_gather_backward;
  static constexpr auto dropout_backward = &cuda::dropout_backward;
  static constexpr auto sgd_update = &cuda::sgd_update;
};

constexpr double tol = reduction_tol;  // the accumulate pass may sum in another order

}  // namespace

TEST_CASE("gpu kernel contracts: activation.h", "[gpu][contracts][sanitize]") {
  GpuSide side;
  check_activation<CudaKernels>(side, tol);
}

TEST_CASE("gpu kernel contracts: batch_norm.h and bn_rrelu.h", "[gpu][contracts][sanitize]") {
  GpuSide side;
  check_batch_norm<CudaKernels>(side, tol);
}

TEST_CASE("gpu kernel contracts: bn_add_act.h", "[gpu][contracts][sanitize]") {
  GpuSide side;
  check_bn_add_act<CudaKernels>(side, tol);
}

TEST_CASE("gpu kernel contracts: conv2d linear pool shortcut channel_select dropout", "[gpu][contracts][sanitize]") {
  GpuSide side;
  check_layers<CudaKernels>(side, tol);
}

TEST_CASE("gpu kernel contracts: optimizer.h (SGD without momentum has no buffer)", "[gpu][contracts][sanitize]") {
  GpuSide side;
  check_sgd_without_buffer<CudaKernels>(side);
}
