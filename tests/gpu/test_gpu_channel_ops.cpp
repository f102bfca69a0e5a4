// CUDA per-channel kernels against their CPU twins: rrelu, batch_norm,
// the fused bn_rrelu (with and without a slope) and global average pooling.
// Outputs, saved and running statistics and every gradient are compared;
// input gradients in both GradModes, parameter gradients from junk offsets,
// and each gradient alone (the others nullptr).
#include <catch2/catch.hpp>

#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/bn_rrelu.h"
#include "kernels/pool.h"
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

namespace {

// Odd shapes on purpose: C = 3, N = 1, HW = 1 (batch norm 1d), HW not a
// multiple of 4 (scalar path) or of 32, and larger ones spread over many
// blocks per channel.
const ChannelShape small_shapes[] = {{1, 3, 33}, {128, 7, 1}, {3, 5, 63}, {2, 4, 4}, {5, 16, 36}};
const ChannelShape large_shapes[] = {{16, 16, 1024}, {64, 3, 100}, {32, 64, 64}};

std::string describe(const ChannelShape& s) {
  return "N=" + std::to_string(s.n) + " C=" + std::to_string(s.c) + " HW=" + std::to_string(s.hw);
}

enum class Act { none, relu, rrelu };  // batch_norm, bn_rrelu without slope, bn_rrelu

void check_rrelu(const ChannelShape& s, uint64_t seed) {
  Twins t;
  Rng rng(seed);
  const size_t n = s.numel(), c = s.c;
  auto x = uniform(rng, n, -1, 1);
  x[0] = 0.0f;  // the kink
  const auto slope = signed_magnitudes(rng, c, 0.5, 1.5), dy = uniform(rng, n, -1, 1);
  Tensor dx_in = to_gpu(t.gpu, x), dslope_in = to_gpu(t.gpu, slope), ddy = to_gpu(t.gpu, dy);

  std::vector<float> y(n);
  Tensor dy_out = to_gpu(t.gpu, nans(n));
  cpu::rrelu_forward<float>(t.cpu, s, x.data(), slope.data(), y.data());
  cuda::rrelu_forward(t.gpu, s, fp(dx_in), fp(dslope_in), fp(dy_out));
  REQUIRE_TWIN("rrelu y", from_gpu<float>(t.gpu, dy_out), y, 0.0);

  for (GradMode mode : {GradMode::assign, GradMode::accumulate}) {
    const auto start = uniform(rng, n, -1, 1), ds0 = uniform(rng, c, -1, 1);
    std::vector<float> dx = start, ds = ds0;
    Tensor ddx = to_gpu(t.gpu, mode == GradMode::assign ? nans(n) : start), dds = to_gpu(t.gpu, ds0);
    cpu::rrelu_backward<float>(t.cpu, s, x.data(), dy.data(), slope.data(), dx.data(), mode, ds.data());
    cuda::rrelu_backward(t.gpu, s, fp(dx_in), fp(ddy), fp(dslope_in), fp(ddx), mode, fp(dds));
    REQUIRE_TWIN(std::string("rrelu dx ") + mode_name(mode), from_gpu<float>(t.gpu, ddx), dx, 0.0);
    REQUIRE_TWIN("rrelu dslope", from_gpu<float>(t.gpu, dds), ds, reduction_tol);
  }
  // Each gradient alone.
  std::vector<float> ds(c, 0.25f);
  Tensor dds = to_gpu(t.gpu, ds);
  cpu::rrelu_backward<float>(t.cpu, s, x.data(), dy.data(), slope.data(), nullptr, GradMode::assign, ds.data());
  cuda::rrelu_backward(t.gpu, s, fp(dx_in), fp(ddy), fp(dslope_in), nullptr, GradMode::assign, fp(dds));
  REQUIRE_TWIN("rrelu dslope only", from_gpu<float>(t.gpu, dds), ds, reduction_tol);
  std::vector<float> dx(n);
  Tensor ddx = to_gpu(t.gpu, nans(n));
  cpu::rrelu_backward<float>(t.cpu, s, x.data(), dy.data(), slope.data(), dx.data(), GradMode::assign, nullptr);
  cuda::rrelu_backward(t.gpu, s, fp(dx_in), fp(ddy), fp(dslope_in), fp(ddx), GradMode::assign, nullptr);
  REQUIRE_TWIN("rrelu dx only", from_gpu<float>(t.gpu, ddx), dx, 0.0);
}

// Inputs of one batch-norm case, on the host and on the device.
struct BnCase {
  ChannelShape s;
  Act act;
  std::vector<float> x, gamma, beta, slope, rm0, rv0, dy;
  Tensor dx_in, dgamma_in, dbeta_in, dslope_in, ddy;

  const float* slope_host() const { return act == Act::rrelu ? slope.data() : nullptr; }
  float* slope_dev() { return act == Act::rrelu ? fp(dslope_in) : nullptr; }
};

BnCase make_case(Twins& t, const ChannelShape& s, Act act, double offset, uint64_t seed) {
  Rng rng(seed);
  BnCase k{s, act, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  const size_t n = s.numel(), c = s.c;
  k.x = normal(rng, n, offset, 2.0);
  k.gamma = signed_magnitudes(rng, c, 0.5, 1.5);
  k.beta = uniform(rng, c, -1, 1);
  k.slope = signed_magnitudes(rng, c, 0.5, 1.5);
  k.rm0 = uniform(rng, c, -1, 1);
  k.rv0 = uniform(rng, c, 0.5, 2);
  k.dy = uniform(rng, n, -1, 1);
  k.dx_in = to_gpu(t.gpu, k.x);
  k.dgamma_in = to_gpu(t.gpu, k.gamma);
  k.dbeta_in = to_gpu(t.gpu, k.beta);
  k.dslope_in = to_gpu(t.gpu, k.slope);
  k.ddy = to_gpu(t.gpu, k.dy);
  return k;
}

void cpu_forward_train(Twins& t, const BnCase& k, float* y, float* rm, float* rv, float* mean, float* invstd) {
  if (k.act == Act::none)
    cpu::batch_norm_forward_train<float>(t.cpu, k.s, k.x.data(), k.gamma.data(), k.beta.data(), rm, rv, 0.1, 1e-5, y,
                                         mean, invstd);
  else
    cpu::bn_rrelu_forward_train<float>(t.cpu, k.s, k.x.data(), k.gamma.data(), k.beta.data(), k.slope_host(), rm, rv,
                                       0.1, 1e-5, y, mean, invstd);
}

void check_bn_forward(const ChannelShape& s, Act act, double offset, uint64_t seed) {
  Twins t;
  BnCase k = make_case(t, s, act, offset, seed);
  const size_t n = s.numel(), c = s.c;
  std::vector<float> y(n), rm = k.rm0, rv = k.rv0, mean(c), invstd(c);
  cpu_forward_train(t, k, y.data(), rm.data(), rv.data(), mean.data(), invstd.data());

  Tensor dy = to_gpu(t.gpu, nans(n)), drm = to_gpu(t.gpu, k.rm0), drv = to_gpu(t.gpu, k.rv0),
         dmean = to_gpu(t.gpu, nans(c)), dinv = to_gpu(t.gpu, nans(c));
  if (act == Act::none)
    cuda::batch_norm_forward_train(t.gpu, s, fp(k.dx_in), fp(k.dgamma_in), fp(k.dbeta_in), fp(drm), fp(drv), 0.1,
                                   1e-5, fp(dy), fp(dmean), fp(dinv));
  else
    cuda::bn_rrelu_forward_train(t.gpu, s, fp(k.dx_in), fp(k.dgamma_in), fp(k.dbeta_in), k.slope_dev(), fp(drm),
                                 fp(drv), 0.1, 1e-5, fp(dy), fp(dmean), fp(dinv));
  REQUIRE_TWIN("y", from_gpu<float>(t.gpu, dy), y, reduction_tol);
  REQUIRE_CLOSE("save_mean", from_gpu<float>(t.gpu, dmean), mean, 1e-5 * (1 + std::fabs(offset)), reduction_tol);
  REQUIRE_TWIN("save_invstd", from_gpu<float>(t.gpu, dinv), invstd, reduction_tol);
  REQUIRE_TWIN("running_mean", from_gpu<float>(t.gpu, drm), rm, reduction_tol);
  REQUIRE_TWIN("running_var", from_gpu<float>(t.gpu, drv), rv, reduction_tol);

  // Evaluation with the updated running statistics (the CPU's, on both sides).
  std::vector<float> ye(n);
  Tensor dye = to_gpu(t.gpu, nans(n)), rm_dev = to_gpu(t.gpu, rm), rv_dev = to_gpu(t.gpu, rv);
  if (act == Act::none) {
    cpu::batch_norm_forward_eval<float>(t.cpu, s, k.x.data(), k.gamma.data(), k.beta.data(), rm.data(), rv.data(), 1e-5,
                                        ye.data());
    cuda::batch_norm_forward_eval(t.gpu, s, fp(k.dx_in), fp(k.dgamma_in), fp(k.dbeta_in), fp(rm_dev), fp(rv_dev), 1e-5,
                                  fp(dye));
  } else {
    cpu::bn_rrelu_forward_eval<float>(t.cpu, s, k.x.data(), k.gamma.data(), k.beta.data(), k.slope_host(), rm.data(),
                                      rv.data(), 1e-5, ye.data());
    cuda::bn_rrelu_forward_eval(t.gpu, s, fp(k.dx_in), fp(k.dgamma_in), fp(k.dbeta_in), k.slope_dev(), fp(rm_dev),
                                fp(rv_dev), 1e-5, fp(dye));
  }
  REQUIRE_TWIN("y (eval)", from_gpu<float>(t.gpu, dye), ye, reduction_tol);
}

void check_bn_backward(const ChannelShape& s, Act act, uint64_t seed) {
  Twins t;
  BnCase k = make_case(t, s, act, 0.0, seed);
  const size_t n = s.numel(), c = s.c;
  std::vector<float> y(n), rm = k.rm0, rv = k.rv0, mean(c), invstd(c);
  cpu_forward_train(t, k, y.data(), rm.data(), rv.data(), mean.data(), invstd.data());
  // Keep z = gamma * xhat + beta away from the activation's kink, where the
  // CPU (double) and the GPU (float) may decide differently: backward only
  // needs the statistics it is given, so x may move.
  if (act != Act::none) {
    for (size_t i = 0; i < n; ++i) {
      const size_t ch = (i / s.hw) % c;
      const double a = static_cast<double>(k.gamma[ch]) * invstd[ch];
      const double z = a * (k.x[i] - mean[ch]) + k.beta[ch];
      if (std::fabs(z) < 1e-3) k.x[i] = static_cast<float>(mean[ch] + ((z < 0 ? -2e-3 : 2e-3) - k.beta[ch]) / a);
    }
    k.dx_in = to_gpu(t.gpu, k.x);
  }
  Tensor dmean = to_gpu(t.gpu, mean), dinv = to_gpu(t.gpu, invstd);

  // cpu and gpu backward with any subset of the gradients.
  auto run = [&](float* dx, float* dg, float* db, float* ds, Tensor* ddx, Tensor* ddg, Tensor* ddb, Tensor* dds,
                 GradMode mode) {
    if (act == Act::none) {
      cpu::batch_norm_backward<float>(t.cpu, s, k.x.data(), k.dy.data(), k.gamma.data(), mean.data(), invstd.data(), dx,
                                      mode, dg, db);
      cuda::batch_norm_backward(t.gpu, s, fp(k.dx_in), fp(k.ddy), fp(k.dgamma_in), fp(dmean), fp(dinv),
                                ddx ? fp(*ddx) : nullptr, mode, ddg ? fp(*ddg) : nullptr, ddb ? fp(*ddb) : nullptr);
    } else {
      cpu::bn_rrelu_backward<float>(t.cpu, s, k.x.data(), k.dy.data(), k.gamma.data(), k.beta.data(), k.slope_host(),
                                    mean.data(), invstd.data(), dx, mode, dg, db, ds);
      cuda::bn_rrelu_backward(t.gpu, s, fp(k.dx_in), fp(k.ddy), fp(k.dgamma_in), fp(k.dbeta_in), k.slope_dev(),
                              fp(dmean), fp(dinv), ddx ? fp(*ddx) : nullptr, mode, ddg ? fp(*ddg) : nullptr,
                              ddb ? fp(*ddb) : nullptr, dds ? fp(*dds) : nullptr);
    }
  };
  const bool has_slope = act == Act::rrelu;
  Rng rng(seed + 1);
  for (GradMode mode : {GradMode::assign, GradMode::accumulate}) {
    INFO("mode " << mode_name(mode));
    const auto start = uniform(rng, n, -1, 1), g0 = uniform(rng, c, -1, 1), b0 = uniform(rng, c, -1, 1),
               s0 = uniform(rng, c, -1, 1);
    std::vector<float> dx = start, dg = g0, db = b0, ds = s0;
    Tensor ddx = to_gpu(t.gpu, mode == GradMode::assign ? nans(n) : start), ddg = to_gpu(t.gpu, g0),
           ddb = to_gpu(t.gpu, b0), dds = to_gpu(t.gpu, s0);
    run(dx.data(), dg.data(), db.data(), has_slope ? ds.data() : nullptr, &ddx, &ddg, &ddb, has_slope ? &dds : nullptr,
        mode);
    REQUIRE_TWIN("dx", from_gpu<float>(t.gpu, ddx), dx, reduction_tol);
    REQUIRE_TWIN("dgamma", from_gpu<float>(t.gpu, ddg), dg, reduction_tol);
    REQUIRE_TWIN("dbeta", from_gpu<float>(t.gpu, ddb), db, reduction_tol);
    if (has_slope) REQUIRE_TWIN("dslope", from_gpu<float>(t.gpu, dds), ds, reduction_tol);
  }
  {  // parameter gradients only (no dx)
    std::vector<float> dg(c, 0.5f), db(c, -0.5f), ds(c, 0.25f);
    Tensor ddg = to_gpu(t.gpu, dg), ddb = to_gpu(t.gpu, db), dds = to_gpu(t.gpu, ds);
    run(nullptr, dg.data(), db.data(), has_slope ? ds.data() : nullptr, nullptr, &ddg, &ddb, has_slope ? &dds : nullptr,
        GradMode::assign);
    REQUIRE_TWIN("dgamma only", from_gpu<float>(t.gpu, ddg), dg, reduction_tol);
    REQUIRE_TWIN("dbeta only", from_gpu<float>(t.gpu, ddb), db, reduction_tol);
    if (has_slope) REQUIRE_TWIN("dslope only", from_gpu<float>(t.gpu, dds), ds, reduction_tol);
  }
  {  // dx only
    std::vector<float> dx(n);
    Tensor ddx = to_gpu(t.gpu, nans(n));
    run(dx.data(), nullptr, nullptr, nullptr, &ddx, nullptr, nullptr, nullptr, GradMode::assign);
    REQUIRE_TWIN("dx only", from_gpu<float>(t.gpu, ddx), dx, reduction_tol);
  }
}

void check_pool(const ChannelShape& s, uint64_t seed) {
  Twins t;
  Rng rng(seed);
  const size_t n = s.numel(), planes = s.n * s.c;
  const auto x = uniform(rng, n, -1, 1), dy = uniform(rng, planes, -1, 1);
  Tensor dxin = to_gpu(t.gpu, x), ddy = to_gpu(t.gpu, dy), dout = to_gpu(t.gpu, nans(planes));
  std::vector<float> y(planes);
  cpu::global_avg_pool_forward<float>(t.cpu, s, x.data(), y.data());
  cuda::global_avg_pool_forward(t.gpu, s, fp(dxin), fp(dout));
  REQUIRE_TWIN("pool y", from_gpu<float>(t.gpu, dout), y, reduction_tol);
  require_grad_modes(
      t, "pool dx", n, [&](GradMode m, float* d) { cpu::global_avg_pool_backward<float>(t.cpu, s, dy.data(), d, m); },
      [&](GradMode m, float* d) { cuda::global_avg_pool_backward(t.gpu, s, fp(ddy), d, m); }, elementwise_tol);
}

}  // namespace

TEST_CASE("gpu rrelu forward and backward", "[gpu][rrelu]") {
  uint64_t seed = 10;
  for (const ChannelShape& s : small_shapes) {
    INFO(describe(s));
    check_rrelu(s, ++seed);
  }
  for (const ChannelShape& s : large_shapes) {
    INFO(describe(s));
    check_rrelu(s, ++seed);
  }
}

TEST_CASE("gpu batch_norm train/eval forward (small shapes)", "[gpu][bn][sanitize]") {
  uint64_t seed = 20;
  for (const ChannelShape& s : small_shapes) {
    INFO(describe(s));
    check_bn_forward(s, Act::none, 0.0, ++seed);
  }
}

TEST_CASE("gpu bn_rrelu train/eval forward (small shapes)", "[gpu][bn_rrelu][sanitize]") {
  uint64_t seed = 30;
  for (const ChannelShape& s : small_shapes) {
    INFO(describe(s));
    check_bn_forward(s, Act::rrelu, 0.0, ++seed);
    check_bn_forward(s, Act::relu, 0.0, ++seed);
  }
}

TEST_CASE("gpu batch_norm and bn_rrelu forward (large shapes and an offset mean)", "[gpu][bn][bn_rrelu]") {
  uint64_t seed = 40;
  for (const ChannelShape& s : large_shapes) {
    INFO(describe(s));
    for (Act act : {Act::none, Act::relu, Act::rrelu}) {
      check_bn_forward(s, act, 0.0, ++seed);
      // A mean far from zero: Welford/Chan must not lose the variance.
      check_bn_forward(s, act, 100.0, ++seed);
    }
  }
}

TEST_CASE("gpu batch_norm backward (small shapes)", "[gpu][bn][sanitize]") {
  uint64_t seed = 50;
  for (const ChannelShape& s : small_shapes) {
    INFO(describe(s));
    check_bn_backward(s, Act::none, ++seed);
  }
}

TEST_CASE("gpu batch_norm backward (large shapes)", "[gpu][bn]") {
  uint64_t seed = 55;
  for (const ChannelShape& s : large_shapes) {
    INFO(describe(s));
    check_bn_backward(s, Act::none, ++seed);
  }
}

TEST_CASE("gpu bn_rrelu backward (small shapes)", "[gpu][bn_rrelu][sanitize]") {
  uint64_t seed = 60;
  for (const ChannelShape& s : small_shapes) {
    INFO(describe(s));
    check_bn_backward(s, Act::rrelu, ++seed);
    check_bn_backward(s, Act::relu, ++seed);
  }
}

TEST_CASE("gpu bn_rrelu backward (large shapes)", "[gpu][bn_rrelu]") {
  uint64_t seed = 70;
  for (const ChannelShape& s : large_shapes) {
    INFO(describe(s));
    check_bn_backward(s, Act::rrelu, ++seed);
    check_bn_backward(s, Act::relu, ++seed);
  }
}

TEST_CASE("gpu global average pooling", "[gpu][pool]") {
  uint64_t seed = 80;
  for (const ChannelShape& s : {ChannelShape{2, 3, 35}, ChannelShape{1, 1, 1}, ChannelShape{128, 64, 64},
                                ChannelShape{7, 10, 1024}}) {
    INFO(describe(s));
    check_pool(s, ++seed);
  }
}
