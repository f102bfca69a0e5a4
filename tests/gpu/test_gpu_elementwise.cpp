// CUDA elementwise kernels against their CPU twins: add, copy_grad, fill,
// scale, axpy, relu, dropout. Sizes include 1, odd sizes and one larger
// than the grid (so the grid-stride loops wrap).
#include <catch2/catch.hpp>

#include "engine/hash.h"
#include "engine/tensor_util.h"
#include "kernels/activation.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

namespace {
const int64_t sizes[] = {1, 31, 4097, 1000003};
}

TEST_CASE("gpu elementwise: add fill scale axpy", "[gpu][elementwise]") {
  Twins t;
  for (int64_t n : sizes) {
    INFO("n = " << n);
    Rng rng(static_cast<uint64_t>(n));
    const auto a = uniform(rng, n, -2, 2), b = uniform(rng, n, -2, 2);
    Tensor a_dev = to_gpu(t.gpu, a), b_dev = to_gpu(t.gpu, b);

    std::vector<float> y(n);
    cpu::add_forward<float>(t.cpu, n, a.data(), b.data(), y.data());
    Tensor y_dev = to_gpu(t.gpu, nans(n));
    cuda::add_forward(t.gpu, n, fp(a_dev), fp(b_dev), fp(y_dev));
    REQUIRE_TWIN("add", from_gpu<float>(t.gpu, y_dev), y, 0.0);

    std::vector<float> f(n, 1.0f);
    cpu::fill<float>(t.cpu, n, 0.375f, f.data());
    Tensor f_dev = to_gpu(t.gpu, nans(n));
    cuda::fill(t.gpu, n, 0.375f, fp(f_dev));
    REQUIRE_TWIN("fill", from_gpu<float>(t.gpu, f_dev), f, 0.0);

    std::vector<float> s = a;
    cpu::scale<float>(t.cpu, n, -1.7f, s.data());
    cuda::scale(t.gpu, n, -1.7f, fp(a_dev));
    REQUIRE_TWIN("scale", from_gpu<float>(t.gpu, a_dev), s, 0.0);

    std::vector<float> ax = b;
    cpu::axpy<float>(t.cpu, n, 0.3f, a.data(), ax.data());
    Tensor a2_dev = to_gpu(t.gpu, a);
    cuda::axpy(t.gpu, n, 0.3f, fp(a2_dev), fp(b_dev));
    REQUIRE_TWIN("axpy", from_gpu<float>(t.gpu, b_dev), ax,
                 elementwise_tol);  // exact unless a CPU build contracts to FMA
  }
}

TEST_CASE("gpu elementwise: copy_grad in both modes", "[gpu][elementwise]") {
  Twins t;
  for (int64_t n : sizes) {
    INFO("n = " << n);
    Rng rng(static_cast<uint64_t>(n) + 1);
    const auto src = uniform(rng, n, -2, 2);
    Tensor src_dev = to_gpu(t.gpu, src);
    require_grad_modes(
        t, "copy_grad", n, [&](GradMode m, float* d) { cpu::copy_grad<float>(t.cpu, n, src.data(), d, m); },
        [&](GradMode m, float* d) { cuda::copy_grad(t.gpu, n, fp(src_dev), d, m); }, 0.0);
  }
}

TEST_CASE("gpu relu forward and backward", "[gpu][activation]") {
  Twins t;
  for (int64_t n : sizes) {
    INFO("n = " << n);
    Rng rng(static_cast<uint64_t>(n) + 2);
    auto x = uniform(rng, n, -1, 1);
    if (n > 3) x[3] = 0.0f;  // the kink: gradient 0 on both sides
    const auto dy = uniform(rng, n, -1, 1);
    Tensor x_dev = to_gpu(t.gpu, x), dy_dev = to_gpu(t.gpu, dy), y_dev = to_gpu(t.gpu, nans(n));
    std::vector<float> y(n);
    cpu::relu_forward<float>(t.cpu, n, x.data(), y.data());
    cuda::relu_forward(t.gpu, n, fp(x_dev), fp(y_dev));
    REQUIRE_TWIN("relu y", from_gpu<float>(t.gpu, y_dev), y, 0.0);
    require_grad_modes(
        t, "relu dx", n, [&](GradMode m, float* d) { cpu::relu_backward<float>(t.cpu, n, x.data(), dy.data(), d, m); },
        [&](GradMode m, float* d) { cuda::relu_backward(t.gpu, n, fp(x_dev), fp(dy_dev), d, m); }, 0.0);
  }
}

TEST_CASE("gpu dropout: the same mask as the CPU", "[gpu][dropout]") {
  Twins t;
  for (int64_t n : sizes) {
    for (double p : {0.1, 0.5}) {
      INFO("n = " << n << ", p = " << p);
      Rng rng(static_cast<uint64_t>(n) + 3);
      const uint64_t seed = 0xD20F + static_cast<uint64_t>(n);
      const auto x = uniform(rng, n, -1, 1), dy = uniform(rng, n, -1, 1);
      Tensor x_dev = to_gpu(t.gpu, x), dy_dev = to_gpu(t.gpu, dy), y_dev = to_gpu(t.gpu, nans(n));
      std::vector<float> y(n);
      cpu::dropout_forward<float>(t.cpu, n, x.data(), p, seed, y.data());
      cuda::dropout_forward(t.gpu, n, fp(x_dev), p, seed, fp(y_dev));
      REQUIRE_TWIN("dropout y", from_gpu<float>(t.gpu, y_dev), y, 0.0);
      require_grad_modes(
          t, "dropout dx", n,
          [&](GradMode m, float* d) { cpu::dropout_backward<float>(t.cpu, n, dy.data(), p, seed, d, m); },
          [&](GradMode m, float* d) { cuda::dropout_backward(t.gpu, n, fp(dy_dev), p, seed, d, m); }, 0.0);
      // A graph step's variant: the seed is hash_u64(step seed, use), the
      // step seed read from device memory (apps/graph_step.h).
      const uint64_t step_seed = seed * 7 + 1, use = 3;
      Tensor step_host = Tensor::host({1}, DType::i64);
      step_host.data<int64_t>()[0] = static_cast<int64_t>(step_seed);
      const Tensor step_dev = to_device(t.gpu, step_host, Device::cuda);
      const auto* step_ptr = static_cast<const uint64_t*>(step_dev.raw());
      const uint64_t op_seed = hash_u64(step_seed, use);
      cpu::dropout_forward<float>(t.cpu, n, x.data(), p, op_seed, y.data());
      cuda::dropout_forward_step_seed(t.gpu, n, fp(x_dev), p, step_ptr, use, fp(y_dev));
      REQUIRE_TWIN("dropout y (step seed on the device)", from_gpu<float>(t.gpu, y_dev), y, 0.0);
      require_grad_modes(
          t, "dropout dx (step seed on the device)", n,
          [&](GradMode m, float* d) { cpu::dropout_backward<float>(t.cpu, n, dy.data(), p, op_seed, d, m); },
          [&](GradMode m, float* d) {
            cuda::dropout_backward_step_seed(t.gpu, n, fp(dy_dev), p, step_ptr, use, d, m);
          },
          0.0);
    }
  }
}
