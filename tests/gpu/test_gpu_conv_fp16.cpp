// The FP16 tensor-core convolutions of kernels/cuda/conv2d_mma.cu (Context
// precision fp16) against the CPU im2col + GEMM, and the FP16 mma.sync they
// are built on against a plain 16x8x8 matmul. Under the emulation (run.sh)
// the device reports compute capability 9.0 unless EMU_CC says otherwise;
// the FP16 path runs on sm_75 and newer. On a GPU older than sm_75 these
// tests skip their checks (fp16 then runs the SIMT path, which
// test_gpu_conv.cpp covers). The FP16 path has never run on a GPU: these
// tests have passed only under the emulation.
//
// Two tolerances, for two questions:
//  - Is it exactly FP16 in, FP32 sums out? The CPU reference runs on the
//    inputs rounded as the kernels round them (x, w to half; dy to half
//    after the kernel's power-of-two scale, and back). A product of two
//    halves (11-bit significands) is exact in a float, so both sides
//    multiply the same numbers exactly and differ only by FP32 summation
//    order: reduction_tol (1e-4 of the output's scale), as for TF32.
//  - Is it as close to the FP32 twin as FP16 allows? Each operand rounds
//    with relative error at most u = 2^-11 (FP16's unit roundoff) as long
//    as it is in FP16's normal range, so each product is off by at most
//    (2u + u^2)|a||b|, and FP32 sums of K terms add at most K * 2^-24 of
//    sum |a||b| (on each side). The bound per output element is therefore
//    (2u + u^2 + 2 K 2^-24) * sum_k |a_k||b_k|, the sum computed by the CPU
//    twin on |a| and |b|. Values below FP16's normal range (6.1e-5) break
//    the premise: that is what dy's scaling is for, and the small-dy case
//    below fails this bound without it.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cstdlib>
#include <cstring>

#include "engine/cuda/cuda_state.h"
#include "kernels/conv2d.h"
#include "kernels/mma_probe.h"
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

namespace {

constexpr double fp16_u = 0x1p-11;  // unit roundoff of IEEE binary16 (11-bit significand)

// Round to nearest FP16, ties to even, for values in range (subnormals
// included; the tests never exceed 65504), returned as a float.
float round_half(float x) {
  const double a = std::fabs(static_cast<double>(x));
  if (a == 0) return x;
  int e;
  std::frexp(a, &e);                                // a in [2^(e-1), 2^e)
  const int q = std::max(e - 1, -14) - 10;          // the spacing of halves near a: 2^q
  const double r = std::ldexp(std::nearbyint(std::ldexp(a, -q)), q);
  return static_cast<float>(x < 0 ? -r : r);
}

// The power of two the kernels scale dy by: max|dy| * s in [2^14, 2^15),
// the exponent clamped to [-100, 100]; 1 when dy is all zero.
double dy_scale(const std::vector<float>& dy) {
  const double m = max_abs(dy);
  if (m == 0) return 1;
  int e;
  std::frexp(m, &e);
  return std::ldexp(1.0, std::clamp(15 - e, -100, 100));
}

std::vector<float> rounded(std::vector<float> v, double scale = 1) {
  for (float& x : v) x = static_cast<float>(round_half(static_cast<float>(x * scale)) / scale);
  return v;
}

std::vector<float> absolute(std::vector<float> v) {
  for (float& x : v) x = std::fabs(x);
  return v;
}

bool has_fp16_tensor_cores(Context& gpu) {
  try {
    Tensor z = to_gpu(gpu, std::vector<float>(128, 0.0f));
    cuda::mma_f16_probe(gpu, fp(z), fp(z), fp(z), fp(z));
    return true;
  } catch (const Error&) {
    WARN("this GPU has no FP16 tensor cores (sm_75+): nothing to check here");
    return false;
  }
}

// |got[i] - ref[i]| <= factor * abs_sum[i] + extra * |ref[i]| for every i,
// reporting the worst element.
void require_fp16_bound(const std::string& what, const std::vector<float>& got, const std::vector<float>& ref,
                        const std::vector<float>& abs_sum, size_t k, double extra = 0) {
  REQUIRE(got.size() == ref.size());
  const double factor = (2 * fp16_u + fp16_u * fp16_u + 2 * double(k) * 0x1p-24) * 1.001;
  size_t worst = 0;
  double worst_ratio = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double bound = factor * abs_sum[i] + extra * std::fabs(ref[i]) + 1e-37;
    const double ratio = std::fabs(double(got[i]) - ref[i]) / bound;
    if (!(ratio <= worst_ratio)) {  // NaN counts as the worst
      worst_ratio = ratio;
      worst = i;
    }
  }
  INFO(what << ": worst element " << worst << " of " << got.size() << ": got " << got[worst] << ", FP32 twin "
            << ref[worst] << ", |error| / bound = " << worst_ratio << " (K = " << k << ")");
  REQUIRE(worst_ratio <= 1.0);
}

std::string describe(const ConvShape& s) {
  return fmt::format("x {}x{}x{}x{}, w {}x{}x{}x{}, stride {}, pad {}", s.n, s.c_in, s.h, s.w, s.c_out, s.c_in, s.kh,
                     s.kw, s.stride, s.pad);
}

// Forward, backward_data (assign and accumulate) and backward_weight in FP16
// against the CPU twin, by both tolerances; dy is uniform in +-dy_size.
void check_conv_fp16(const ConvShape& s, uint64_t seed, float dy_size = 1.0f) {
  INFO(describe(s) << ", |dy| up to " << dy_size);
  Twins t(Precision::fp16);
  if (!has_fp16_tensor_cores(t.gpu)) return;
  Rng rng(seed);
  const size_t nx = s.x_numel(), nw = s.w_numel(), ny = s.y_numel();
  const auto x = uniform(rng, nx, -1, 1), w = uniform(rng, nw, -1, 1), dy = uniform(rng, ny, -dy_size, dy_size);
  const double sdy = dy_scale(dy);
  const auto xr = rounded(x), wr = rounded(w), dyr = rounded(dy, sdy);  // what the tensor cores multiply
  const auto xa = absolute(x), wa = absolute(w), dya = absolute(dy);
  Tensor x_dev = to_gpu(t.gpu, x), w_dev = to_gpu(t.gpu, w), dy_dev = to_gpu(t.gpu, dy);
  const size_t k_fwd = size_t(s.c_in) * s.kh * s.kw, k_data = size_t(s.c_out) * s.kh * s.kw,
               k_weight = size_t(s.n) * s.h_out() * s.w_out();

  // forward
  std::vector<float> y_r(ny), y(ny), y_abs(ny);
  cpu::conv2d_forward<float>(t.cpu, s, xr.data(), wr.data(), y_r.data());
  cpu::conv2d_forward<float>(t.cpu, s, x.data(), w.data(), y.data());
  cpu::conv2d_forward<float>(t.cpu, s, xa.data(), wa.data(), y_abs.data());
  Tensor y_dev = to_gpu(t.gpu, nans(ny));
  cuda::conv2d_forward(t.gpu, s, fp(x_dev), fp(w_dev), fp(y_dev));
  const auto y_got = from_gpu<float>(t.gpu, y_dev);
  REQUIRE_TWIN("fp16 conv y (rounded inputs)", y_got, y_r, reduction_tol);
  require_fp16_bound("fp16 conv y (FP32 twin)", y_got, y, y_abs, k_fwd);

  // backward_data, both modes: the rounded-input reference first, then the FP32 twin.
  require_grad_modes(
      t, "fp16 conv dx (rounded inputs)", nx,
      [&](GradMode m, float* d) { cpu::conv2d_backward_data<float>(t.cpu, s, dyr.data(), wr.data(), d, m); },
      [&](GradMode m, float* d) { cuda::conv2d_backward_data(t.gpu, s, fp(dy_dev), fp(w_dev), d, m); },
      reduction_tol, seed + 1);
  std::vector<float> dx_abs(nx);
  cpu::conv2d_backward_data<float>(t.cpu, s, dya.data(), wa.data(), dx_abs.data(), GradMode::assign);
  for (GradMode mode : {GradMode::assign, GradMode::accumulate}) {
    INFO(mode_name(mode));
    const auto start = uniform(rng, nx, -dy_size, dy_size);
    std::vector<float> dx = start;
    cpu::conv2d_backward_data<float>(t.cpu, s, dy.data(), w.data(), dx.data(), mode);
    Tensor dx_dev = to_gpu(t.gpu, mode == GradMode::assign ? nans(nx) : start);
    cuda::conv2d_backward_data(t.gpu, s, fp(dy_dev), fp(w_dev), fp(dx_dev), mode);
    // Accumulating adds one float rounding of the sum on each side.
    require_fp16_bound("fp16 conv dx (FP32 twin)", from_gpu<float>(t.gpu, dx_dev), dx, dx_abs, k_data,
                       mode == GradMode::accumulate ? 0x1p-23 : 0.0);
  }

  // backward_weight accumulates onto what is there: start from zero for the
  // FP32-twin bound (relative to dw's own sums), from junk for the rounded one.
  const auto dw0 = uniform(rng, nw, -1, 1);
  std::vector<float> dw_r = dw0, dw(nw, 0.0f), dw_abs(nw, 0.0f);
  cpu::conv2d_backward_weight<float>(t.cpu, s, xr.data(), dyr.data(), dw_r.data());
  cpu::conv2d_backward_weight<float>(t.cpu, s, x.data(), dy.data(), dw.data());
  cpu::conv2d_backward_weight<float>(t.cpu, s, xa.data(), dya.data(), dw_abs.data());
  Tensor dw_dev = to_gpu(t.gpu, dw0), dw0_dev = to_gpu(t.gpu, std::vector<float>(nw, 0.0f));
  cuda::conv2d_backward_weight(t.gpu, s, fp(x_dev), fp(dy_dev), fp(dw_dev));
  cuda::conv2d_backward_weight(t.gpu, s, fp(x_dev), fp(dy_dev), fp(dw0_dev));
  REQUIRE_TWIN("fp16 conv dw (rounded inputs)", from_gpu<float>(t.gpu, dw_dev), dw_r, reduction_tol);
  require_fp16_bound("fp16 conv dw (FP32 twin)", from_gpu<float>(t.gpu, dw0_dev), dw, dw_abs, k_weight);
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
    {1, 3, 9, 7, 16, 3, 3, 1, 1},    // stem: K = 27, not a multiple of 4 (4-byte weight copies), short last k step
    {3, 5, 7, 11, 70, 3, 3, 2, 2},   // odd everything, M over 64, pad 2
    {2, 4, 6, 7, 5, 3, 1, 1, 1},     // 3x1 kernel
    {1, 8, 5, 5, 8, 3, 3, 3, 0},     // stride 3, no padding
};

// Sets EMU_CC for the contexts made in its scope: under the emulation their
// device has that compute capability (fake_backend.cpp reads it when a
// context is made). On a GPU it changes nothing.
struct EmulatedCc {
  explicit EmulatedCc(const char* cc) {
    if (const char* o = std::getenv("EMU_CC")) old = o;
    setenv("EMU_CC", cc, 1);
  }
  ~EmulatedCc() { old.empty() ? unsetenv("EMU_CC") : setenv("EMU_CC", old.c_str(), 1); }
  std::string old;
};

int compute_capability(Context& gpu) { return gpu.cuda().prop.major * 10 + gpu.cuda().prop.minor; }

}  // namespace

TEST_CASE("gpu mma m16n8k8 f16 equals a 16x8x8 matmul of FP16-rounded inputs", "[gpu][conv2d_fp16][mma]") {
  Context gpu(cuda_context_options(Precision::fp16));
  if (!has_fp16_tensor_cores(gpu)) return;
  Rng rng(15);
  const auto a = uniform(rng, 16 * 8, -2, 2), b = uniform(rng, 8 * 8, -2, 2), c = uniform(rng, 16 * 8, -2, 2);
  Tensor a_dev = to_gpu(gpu, a), b_dev = to_gpu(gpu, b), c_dev = to_gpu(gpu, c), d_dev = to_gpu(gpu, nans(16 * 8));
  cuda::mma_f16_probe(gpu, fp(a_dev), fp(b_dev), fp(c_dev), fp(d_dev));
  std::vector<double> ref(16 * 8);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      double sum = c[i * 8 + j];
      for (int k = 0; k < 8; ++k) sum += double(round_half(a[i * 8 + k])) * round_half(b[k * 8 + j]);
      ref[i * 8 + j] = sum;
    }
  // Exact products, FP32 sums of nine terms of size ~4: a few float ulps.
  // A fragment read from the wrong place gives O(1) errors.
  REQUIRE_CLOSE("mma d", from_gpu<float>(gpu, d_dev), ref, 1e-5, 1e-6);
}

TEST_CASE("gpu mma f16 rounds its operands to IEEE half: nearest even, subnormals, overflow to inf",
          "[gpu][conv2d_fp16][mma]") {
  Context gpu(cuda_context_options(Precision::fp16));
  if (!has_fp16_tensor_cores(gpu)) return;
  // Column 0 of A holds the probes; B = row 0 of ones: D(i, j) = half(A(i, 0)).
  const float inf = std::numeric_limits<float>::infinity();
  const struct {
    float in, out;
  } probes[16] = {
      {1.0f + 0x1p-11f, 1.0f},                    // a tie at 1 (ulp 2^-10): to even, down
      {1.0f + 3 * 0x1p-11f, 1.0f + 0x1p-9f},      // a tie between 1 + ulp and 1 + 2 ulp: to even, up
      {-(1.0f + 3 * 0x1p-11f), -(1.0f + 0x1p-9f)},  // the same, negative
      {1.0f + 0x1p-11f + 0x1p-23f, 1.0f + 0x1p-10f},  // just above the tie: up
      {65504.0f, 65504.0f},                       // the largest half
      {65519.0f, 65504.0f},                       // just below the tie with 65536: 65504
      {65520.0f, inf},                            // the tie: to even, which is infinity
      {-1e5f, -inf},                              // overflow
      {0x1p-24f, 0x1p-24f},                       // the least subnormal
      {0x1p-25f, 0.0f},                           // a tie between 0 and 2^-24: to even, 0
      {3 * 0x1p-25f, 0x1p-23f},                   // a tie between 2^-24 and 2^-23: to even, 2^-23
      {0x1p-14f - 0x1p-25f, 0x1p-14f},            // a tie between 1023 and 1024 * 2^-24: up to the least normal
      {1e-8f, 0.0f},                              // underflow
      {0.1f, 0.0999755859375f},                   // 1638 * 2^-14
      {1.0f / 3.0f, 0.333251953125f},             // 1365 * 2^-12
      {-2.5f, -2.5f},                             // exact
  };
  std::vector<float> a(16 * 8, 0.0f), b(8 * 8, 0.0f), c(16 * 8, 0.0f), expect(16 * 8);
  for (int i = 0; i < 16; ++i) a[i * 8] = probes[i].in;
  for (int j = 0; j < 8; ++j) b[j] = 1.0f;
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) expect[i * 8 + j] = probes[i].out;
  Tensor a_dev = to_gpu(gpu, a), b_dev = to_gpu(gpu, b), c_dev = to_gpu(gpu, c), d_dev = to_gpu(gpu, nans(16 * 8));
  cuda::mma_f16_probe(gpu, fp(a_dev), fp(b_dev), fp(c_dev), fp(d_dev));
  const auto d = from_gpu<float>(gpu, d_dev);
  for (size_t i = 0; i < d.size(); ++i) {
    INFO("probe " << i / 8 << " (" << probes[i / 8].in << "), column " << i % 8);
    REQUIRE(d[i] == expect[i]);  // bit for bit (but for the sign of 0)
  }
  // The test's own rounding agrees with the table (it makes the references above).
  for (const auto& p : probes)
    if (std::isfinite(p.out)) REQUIRE(round_half(p.in) == p.out);
}

TEST_CASE("gpu conv2d fp16 forward and backward (ResNet stages)", "[gpu][conv2d_fp16]") {
  uint64_t seed = 500;
  for (const ConvShape& s : resnet_stage_shapes) check_conv_fp16(s, ++seed);
}

TEST_CASE("gpu conv2d fp16 forward and backward (odd shapes)", "[gpu][conv2d_fp16][sanitize]") {
  uint64_t seed = 600;
  for (const ConvShape& s : odd_shapes) check_conv_fp16(s, ++seed);
}

TEST_CASE("gpu conv2d fp16 scales tiny gradients into FP16's range", "[gpu][conv2d_fp16]") {
  // |dy| up to 1e-6: in FP16 that is subnormal (steps of 6e-8), so unscaled
  // it would lose up to half its digits and the smallest values entirely,
  // far outside the bound; scaled by 2^35 it is as exact as dy of size 1.
  // The gradients of a training step are this small routinely.
  check_conv_fp16({2, 16, 8, 8, 16, 3, 3, 1, 1}, 701, 1e-6f);
  check_conv_fp16({2, 16, 8, 8, 32, 3, 3, 2, 1}, 702, 3e-9f);
  // And large: beyond 65504 dy is scaled down.
  check_conv_fp16({1, 16, 6, 6, 16, 3, 3, 1, 1}, 703, 1e6f);
}

TEST_CASE("gpu conv2d uses FP16 tensor cores on sm_75, where tf32 falls back to FP32 SIMT", "[gpu][conv2d_fp16]") {
  // x = 1 + 2^-12 rounds to 1 in FP16 and in TF32 (2^-12 is under half
  // their ulp at 1), w = 1: FP32 sums 144 * (1 + 2^-12) exactly, as the CPU
  // does; FP16 and TF32 give 144. No padding, so every output has all 144
  // terms. Under the emulation the contexts see an sm_75 device; on a GPU,
  // the device there is (then the expectations follow its capability).
  const EmulatedCc sm75("7.5");
  const ConvShape s{1, 16, 6, 6, 16, 3, 3, 1, 0};
  const std::vector<float> x(s.x_numel(), 1.0f + std::ldexp(1.0f, -12)), w(s.w_numel(), 1.0f);
  for (Precision p : {Precision::fp32, Precision::tf32, Precision::fp16}) {
    INFO(precision_name(p));
    Twins t(p);
    const int cc = compute_capability(t.gpu);
    INFO("compute capability " << cc);
    if (cc < 75) WARN("the device is older than sm_75: all three precisions run FP32");
    const bool rounded = (p == Precision::tf32 && cc >= 80) || (p == Precision::fp16 && cc >= 75);
    std::vector<float> y(s.y_numel());
    cpu::conv2d_forward<float>(t.cpu, s, x.data(), w.data(), y.data());
    REQUIRE(y[0] == 144.0f + 144.0f * std::ldexp(1.0f, -12));
    Tensor x_dev = to_gpu(t.gpu, x), w_dev = to_gpu(t.gpu, w), y_dev = to_gpu(t.gpu, nans(y.size()));
    cuda::conv2d_forward(t.gpu, s, fp(x_dev), fp(w_dev), fp(y_dev));
    const auto got = from_gpu<float>(t.gpu, y_dev);
    if (rounded) {
      REQUIRE_CLOSE("tensor-core y", got, std::vector<float>(y.size(), 144.0f), 0.0, 0.0);
    } else {
      REQUIRE_TWIN("fp32 y", got, y, reduction_tol);
    }
  }
  // The whole FP16 path (scaled backward included) on the sm_75 device.
  check_conv_fp16({2, 16, 8, 8, 32, 3, 3, 2, 1}, 801, 1e-5f);
}

TEST_CASE("gpu conv2d fp16 with dy all zero or non-finite: zeros stay exact, inf and NaN show", "[gpu][conv2d_fp16]") {
  // max|dy| = 0 must give a finite scale (1), not one that turns 0 into NaN; a NaN
  // or inf in dy must reach the results (the trainer's non-finite guard
  // reports it), not be scaled away.
  const ConvShape s{2, 16, 6, 6, 16, 3, 3, 1, 1};
  Twins t(Precision::fp16);
  if (!has_fp16_tensor_cores(t.gpu)) return;
  Rng rng(901);
  const size_t nx = s.x_numel(), nw = s.w_numel(), ny = s.y_numel();
  const auto x = uniform(rng, nx, -1, 1), w = uniform(rng, nw, -1, 1), dw0 = uniform(rng, nw, -1, 1);
  Tensor x_dev = to_gpu(t.gpu, x), w_dev = to_gpu(t.gpu, w);
  {
    Tensor dy_dev = to_gpu(t.gpu, std::vector<float>(ny, 0.0f)), dx_dev = to_gpu(t.gpu, nans(nx)),
           dw_dev = to_gpu(t.gpu, dw0);
    cuda::conv2d_backward_data(t.gpu, s, fp(dy_dev), fp(w_dev), fp(dx_dev), GradMode::assign);
    cuda::conv2d_backward_weight(t.gpu, s, fp(x_dev), fp(dy_dev), fp(dw_dev));
    REQUIRE_CLOSE("dx of dy = 0", from_gpu<float>(t.gpu, dx_dev), std::vector<float>(nx, 0.0f), 0.0, 0.0);
    REQUIRE_CLOSE("dw += 0", from_gpu<float>(t.gpu, dw_dev), dw0, 0.0, 0.0);
  }
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    INFO("dy holds " << bad);
    auto dy = uniform(rng, ny, -1e-3, 1e-3);
    dy[ny / 2] = bad;
    Tensor dy_dev = to_gpu(t.gpu, dy), dx_dev = to_gpu(t.gpu, nans(nx)),
           dw_dev = to_gpu(t.gpu, std::vector<float>(nw, 0.0f));
    cuda::conv2d_backward_data(t.gpu, s, fp(dy_dev), fp(w_dev), fp(dx_dev), GradMode::assign);
    cuda::conv2d_backward_weight(t.gpu, s, fp(x_dev), fp(dy_dev), fp(dw_dev));
    auto nonfinite = [](const std::vector<float>& v) {
      return std::count_if(v.begin(), v.end(), [](float f) { return !std::isfinite(f); });
    };
    const auto dx = from_gpu<float>(t.gpu, dx_dev), dw = from_gpu<float>(t.gpu, dw_dev);
    CHECK(nonfinite(dx) > 0);
    CHECK(nonfinite(dx) < static_cast<long>(nx));  // only the outputs it reaches
    CHECK(nonfinite(dw) > 0);
  }
}
