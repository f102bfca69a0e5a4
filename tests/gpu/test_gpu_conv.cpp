// CUDA conv2d (implicit GEMM) against the CPU im2col + GEMM: forward,
// backward_data in both GradModes, backward_weight accumulating onto junk
// offsets. Shapes cover C_in = 3, N = 1, k = 1, 3, 5 and a 3x1 kernel,
// stride 1, 2 and 3, padding 0..2, rectangular images, channel counts
// that fill none of the tiles exactly, and each of the three tile shapes.
#include <catch2/catch.hpp>

#include "kernels/conv2d.h"
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

namespace {

std::string describe(const ConvShape& s) {
  return "x " + std::to_string(s.n) + "x" + std::to_string(s.c_in) + "x" + std::to_string(s.h) + "x" +
         std::to_string(s.w) + ", w " + std::to_string(s.c_out) + "x" + std::to_string(s.c_in) + "x" +
         std::to_string(s.kh) + "x" + std::to_string(s.kw) + ", stride " + std::to_string(s.stride) + ", pad " +
         std::to_string(s.pad);
}

void check_conv(const ConvShape& s, uint64_t seed) {
  INFO(describe(s));
  Twins t;
  Rng rng(seed);
  const size_t nx = s.x_numel(), nw = s.w_numel(), ny = s.y_numel();
  const auto x = uniform(rng, nx, -1, 1), w = uniform(rng, nw, -1, 1), dy = uniform(rng, ny, -1, 1);
  Tensor x_dev = to_gpu(t.gpu, x), w_dev = to_gpu(t.gpu, w), dy_dev = to_gpu(t.gpu, dy);

  std::vector<float> y(ny);
  Tensor y_dev = to_gpu(t.gpu, nans(ny));
  cpu::conv2d_forward<float>(t.cpu, s, x.data(), w.data(), y.data());
  cuda::conv2d_forward(t.gpu, s, fp(x_dev), fp(w_dev), fp(y_dev));
  REQUIRE_TWIN("conv y", from_gpu<float>(t.gpu, y_dev), y, reduction_tol);

  require_grad_modes(
      t, "conv dx", nx,
      [&](GradMode m, float* d) { cpu::conv2d_backward_data<float>(t.cpu, s, dy.data(), w.data(), d, m); },
      [&](GradMode m, float* d) { cuda::conv2d_backward_data(t.gpu, s, fp(dy_dev), fp(w_dev), d, m); }, reduction_tol,
      seed + 1);

  const auto dw0 = uniform(rng, nw, -1, 1);  // parameter gradients accumulate onto what is there
  std::vector<float> dw = dw0;
  Tensor dw_dev = to_gpu(t.gpu, dw0);
  cpu::conv2d_backward_weight<float>(t.cpu, s, x.data(), dy.data(), dw.data());
  cuda::conv2d_backward_weight(t.gpu, s, fp(x_dev), fp(dy_dev), fp(dw_dev));
  REQUIRE_TWIN("conv dw", from_gpu<float>(t.gpu, dw_dev), dw, reduction_tol);
}

// {n, c_in, h, w, c_out, kh, kw, stride, pad}
const ConvShape small_shapes[] = {
    {2, 3, 9, 9, 4, 3, 3, 1, 1},     // RGB stem-like, tiny output count
    {1, 5, 7, 11, 6, 3, 3, 2, 1},    // N = 1, rectangular, stride 2
    {3, 16, 8, 8, 32, 1, 1, 2, 0},   // 1x1 stride 2 (projection shortcut)
    {2, 8, 6, 6, 8, 1, 1, 1, 0},     // pointwise
    {2, 7, 13, 10, 33, 5, 5, 1, 2},  // 5x5, odd channels
    {1, 3, 5, 5, 70, 3, 3, 3, 0},    // stride 3, no padding, M over 64
    {2, 4, 6, 7, 5, 3, 1, 1, 1},     // 3x1 kernel
    {2, 32, 9, 9, 64, 3, 3, 2, 1},   // 64x64 tiles
};

const ConvShape resnet_shapes[] = {
    {8, 16, 32, 32, 16, 3, 3, 1, 1},  // ResNet-20 stage 1 (batch 8)
    {8, 16, 32, 32, 32, 3, 3, 2, 1},  // stage 1 -> 2 transition
    {8, 32, 16, 16, 32, 3, 3, 1, 1},  // stage 2
    {8, 64, 8, 8, 64, 3, 3, 1, 1},    // stage 3
    {4, 3, 32, 32, 16, 3, 3, 1, 1},   // stem
};

}  // namespace

TEST_CASE("gpu conv2d forward and backward (odd shapes)", "[gpu][conv2d][sanitize]") {
  uint64_t seed = 100;
  for (const ConvShape& s : small_shapes) check_conv(s, ++seed);
}

TEST_CASE("gpu conv2d forward and backward (ResNet shapes)", "[gpu][conv2d]") {
  uint64_t seed = 200;
  for (const ConvShape& s : resnet_shapes) check_conv(s, ++seed);
}
