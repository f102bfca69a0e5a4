// The tensor-core (TF32) convolutions of kernels/cuda/conv2d_mma.cu
// against the CPU im2col + GEMM, and the one mma.sync they are built on
// against a plain 16x8x8 matmul. Under the emulation (run.sh) the device
// reports compute capability 9.0, so a context with precision tf32 takes
// the tensor-core path; on a GPU these tests need an sm_80+ card (they
// skip their checks on older ones, whose tf32 context runs the SIMT path
// that test_gpu_conv.cpp covers).
//
// Tolerance: the kernels round every operand to TF32 (10-bit mantissa,
// nearest with ties away from zero, as cvt.rna does) and sum in FP32. The
// CPU reference is run on inputs rounded the same way, so both sides
// multiply the same numbers exactly (a product of two TF32 values fits in
// a float) and differ only by FP32 summation order: reduction_tol (1e-4 of
// the output's scale) holds. Against unrounded inputs the error would be
// about 2^-11 relative per product, well above that, so a kernel that
// skipped or mis-rounded an operand fails.
#include <catch2/catch.hpp>

#include <cstring>

#include "kernels/conv2d.h"
#include "kernels/mma_probe.h"
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

namespace {

// Round to nearest TF32, ties away from zero (cvt.rna.tf32.f32), for
// finite values: add half a unit of the 13 dropped bits to the magnitude
// and drop them (a carry into the exponent is the correct rounding).
float round_tf32(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u = (u + 0x1000u) & 0xffffe000u;
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

std::vector<float> rounded(std::vector<float> v) {
  for (float& x : v) x = round_tf32(x);
  return v;
}

bool has_tensor_cores(Context& gpu) {
  // The probe refuses devices without TF32 tensor cores; the convolutions
  // then run the FP32 SIMT kernels, which test_gpu_conv.cpp covers.
  try {
    Tensor z = to_gpu(gpu, std::vector<float>(128, 0.0f));
    cuda::mma_tf32_probe(gpu, fp(z), fp(z), fp(z), fp(z));
    return true;
  } catch (const Error&) {
    WARN("this GPU has no TF32 tensor cores: nothing to check here");
    return false;
  }
}

std::string describe(const ConvShape& s) {
  return fmt::format("x {}x{}x{}x{}, w {}x{}x{}x{}, stride {}, pad {}", s.n, s.c_in, s.h, s.w, s.c_out, s.c_in, s.kh,
                     s.kw, s.stride, s.pad);
}

void check_conv_tf32(const ConvShape& s, uint64_t seed) {
  INFO(describe(s));
  Twins t(Precision::tf32);
  if (!has_tensor_cores(t.gpu)) return;
  Rng rng(seed);
  const size_t nx = s.x_numel(), nw = s.w_numel(), ny = s.y_numel();
  const auto x = uniform(rng, nx, -1, 1), w = uniform(rng, nw, -1, 1), dy = uniform(rng, ny, -1, 1);
  const auto xr = rounded(x), wr = rounded(w), dyr = rounded(dy);  // what the tensor cores multiply
  // The GPU gets the unrounded values: rounding them is its job.
  Tensor x_dev = to_gpu(t.gpu, x), w_dev = to_gpu(t.gpu, w), dy_dev = to_gpu(t.gpu, dy);

  std::vector<float> y(ny);
  Tensor y_dev = to_gpu(t.gpu, nans(ny));
  cpu::conv2d_forward<float>(t.cpu, s, xr.data(), wr.data(), y.data());
  cuda::conv2d_forward(t.gpu, s, fp(x_dev), fp(w_dev), fp(y_dev));
  REQUIRE_TWIN("tf32 conv y", from_gpu<float>(t.gpu, y_dev), y, reduction_tol);

  require_grad_modes(
      t, "tf32 conv dx", nx,
      [&](GradMode m, float* d) { cpu::conv2d_backward_data<float>(t.cpu, s, dyr.data(), wr.data(), d, m); },
      [&](GradMode m, float* d) { cuda::conv2d_backward_data(t.gpu, s, fp(dy_dev), fp(w_dev), d, m); },
      reduction_tol, seed + 1);

  const auto dw0 = uniform(rng, nw, -1, 1);  // parameter gradients accumulate onto what is there
  std::vector<float> dw = dw0;
  Tensor dw_dev = to_gpu(t.gpu, dw0);
  cpu::conv2d_backward_weight<float>(t.cpu, s, xr.data(), dyr.data(), dw.data());
  cuda::conv2d_backward_weight(t.gpu, s, fp(x_dev), fp(dy_dev), fp(dw_dev));
  REQUIRE_TWIN("tf32 conv dw", from_gpu<float>(t.gpu, dw_dev), dw, reduction_tol);
}

// {n, c_in, h, w, c_out, kh, kw, stride, pad}
const ConvShape resnet_stage_shapes[] = {
    {2, 16, 16, 16, 16, 3, 3, 1, 1},  // stage 1: 16 channels, N = 9*16 for dw (16x256 tiles)
    {2, 16, 16, 16, 32, 3, 3, 2, 1},  // stage 1 -> 2, stride 2 (32x128 tiles)
    {2, 32, 8, 8, 32, 3, 3, 1, 1},    // stage 2
    {2, 32, 8, 8, 64, 1, 1, 2, 0},    // 1x1 stride-2 projection shortcut
    {2, 64, 5, 5, 64, 3, 3, 1, 1},    // stage 3 on an odd image (64x64 tiles)
};

const ConvShape odd_shapes[] = {
    {1, 3, 9, 7, 16, 3, 3, 1, 1},     // stem: K = 27, not a multiple of 4 (4-byte weight copies)
    {3, 5, 7, 11, 70, 3, 3, 2, 2},    // odd everything, M over 64, pad 2
    {2, 7, 13, 10, 33, 5, 5, 1, 2},   // 5x5, odd channels
    {2, 4, 6, 7, 5, 3, 1, 1, 1},      // 3x1 kernel
    {1, 8, 5, 5, 8, 3, 3, 3, 0},      // stride 3, no padding
};

}  // namespace

TEST_CASE("gpu mma m16n8k8 tf32 equals a 16x8x8 matmul of TF32-rounded inputs", "[gpu][conv2d_tf32][mma]") {
  Context gpu(cuda_context_options(Precision::tf32));
  if (!has_tensor_cores(gpu)) return;
  Rng rng(5);
  const auto a = uniform(rng, 16 * 8, -2, 2), b = uniform(rng, 8 * 8, -2, 2), c = uniform(rng, 16 * 8, -2, 2);
  Tensor a_dev = to_gpu(gpu, a), b_dev = to_gpu(gpu, b), c_dev = to_gpu(gpu, c), d_dev = to_gpu(gpu, nans(16 * 8));
  cuda::mma_tf32_probe(gpu, fp(a_dev), fp(b_dev), fp(c_dev), fp(d_dev));
  std::vector<double> ref(16 * 8);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      double sum = c[i * 8 + j];
      for (int k = 0; k < 8; ++k) sum += double(round_tf32(a[i * 8 + k])) * round_tf32(b[k * 8 + j]);
      ref[i * 8 + j] = sum;
    }
  // Exact products, FP32 sums of nine terms of size ~4: a few float ulps.
  REQUIRE_CLOSE("mma d", from_gpu<float>(gpu, d_dev), ref, 1e-5, 1e-6);
}

TEST_CASE("gpu mma rounds its operands to TF32 to nearest, ties away from zero", "[gpu][conv2d_tf32][mma]") {
  Context gpu(cuda_context_options(Precision::tf32));
  if (!has_tensor_cores(gpu)) return;
  // Column 0 of A holds the probes; B = row 0 of ones: D(i, j) = tf32(A(i, 0)).
  const float one = 1.0f, ulp = std::ldexp(1.0f, -10);  // TF32's unit in the last place at 1
  const float probes[16] = {
      one + ulp / 2,                  // a tie: away from zero, up to 1 + ulp
      -(one + ulp / 2),               // a negative tie: away from zero, down to -(1 + ulp)
      one + ulp / 2 - std::ldexp(1.0f, -23),  // just below the tie: 1
      one + ulp / 2 + std::ldexp(1.0f, -23),  // just above: 1 + ulp
      one + 3 * ulp / 2,              // a tie between 1 + ulp and 1 + 2 ulp: away, 1 + 2 ulp
      2.0f - std::ldexp(1.0f, -23),   // rounds up across the exponent: 2
      1.5f,                           // exact in TF32
      0.1f, -0.1f, 3.14159265f, 1e-3f, -7.5f, 65504.0f, 1e30f, -0.0f, 0.0f};
  std::vector<float> a(16 * 8, 0.0f), b(8 * 8, 0.0f), c(16 * 8, 0.0f), expect(16 * 8);
  for (int i = 0; i < 16; ++i) a[i * 8] = probes[i];
  for (int j = 0; j < 8; ++j) b[j] = 1.0f;
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) expect[i * 8 + j] = round_tf32(probes[i]);
  REQUIRE(expect[0] == one + ulp);
  REQUIRE(expect[1 * 8] == -(one + ulp));
  REQUIRE(expect[2 * 8] == one);
  REQUIRE(expect[4 * 8] == one + 2 * ulp);
  REQUIRE(expect[5 * 8] == 2.0f);
  Tensor a_dev = to_gpu(gpu, a), b_dev = to_gpu(gpu, b), c_dev = to_gpu(gpu, c), d_dev = to_gpu(gpu, nans(16 * 8));
  cuda::mma_tf32_probe(gpu, fp(a_dev), fp(b_dev), fp(c_dev), fp(d_dev));
  REQUIRE_CLOSE("tf32(a)", from_gpu<float>(gpu, d_dev), expect, 0.0, 0.0);  // bit for bit (but for the sign of 0)
}

TEST_CASE("gpu conv2d tf32 forward and backward (ResNet stages)", "[gpu][conv2d_tf32]") {
  uint64_t seed = 300;
  for (const ConvShape& s : resnet_stage_shapes) check_conv_tf32(s, ++seed);
}

TEST_CASE("gpu conv2d tf32 forward and backward (odd shapes)", "[gpu][conv2d_tf32][sanitize]") {
  uint64_t seed = 400;
  for (const ConvShape& s : odd_shapes) check_conv_tf32(s, ++seed);
}

TEST_CASE("gpu conv2d computes in TF32 only with precision tf32 on a tensor-core GPU", "[gpu][conv2d_tf32]") {
  // x = 1 + 2^-12 rounds to 1 in TF32 (2^-12 is under half its ulp), w = 1:
  // FP32 sums 144 * (1 + 2^-12) exactly, as the CPU does; TF32 gives 144,
  // 2.4e-4 relative below, outside reduction_tol (1e-4). No padding, so
  // every output has all 144 terms. Precision fp32, or tf32 on a GPU
  // without tensor cores (EMU_CC=7.5 under the emulation), must be FP32.
  const ConvShape s{1, 16, 6, 6, 16, 3, 3, 1, 0};
  const std::vector<float> x(s.x_numel(), 1.0f + std::ldexp(1.0f, -12)), w(s.w_numel(), 1.0f);
  for (Precision p : {Precision::fp32, Precision::tf32}) {
    INFO(precision_name(p));
    Twins t(p);
    const bool tensor_cores = p == Precision::tf32 && has_tensor_cores(t.gpu);
    std::vector<float> y(s.y_numel());
    cpu::conv2d_forward<float>(t.cpu, s, x.data(), w.data(), y.data());
    Tensor x_dev = to_gpu(t.gpu, x), w_dev = to_gpu(t.gpu, w), y_dev = to_gpu(t.gpu, nans(y.size()));
    cuda::conv2d_forward(t.gpu, s, fp(x_dev), fp(w_dev), fp(y_dev));
    const auto got = from_gpu<float>(t.gpu, y_dev);
    REQUIRE(y[0] == 144.0f + 144.0f * std::ldexp(1.0f, -12));
    if (tensor_cores) {
      REQUIRE_CLOSE("tf32 y", got, std::vector<float>(y.size(), 144.0f), 0.0, 0.0);
    } else {
      REQUIRE_TWIN("fp32 y", got, y, reduction_tol);
    }
  }
}
