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
  Tensor x_dev = to_gpu(t.gpu, x), slope_dev = to_gpu(t.gpu, slope), dy_dev = to_gpu(t.gpu, dy);

  std::vector<float> y(n);
  Tensor y_dev = to_gpu(t.gpu, nans(n));
  cpu::rrelu_forward<float>(t.cpu, s, x.data(), slope.data(), y.data());
  cuda::rrelu_forward(t.gpu, s, fp(x_dev), fp(slope_dev), fp(y_dev));
  REQUIRE_TWIN("rrelu y", from_gpu<float>(t.gpu, y_dev), y, 0.0);

  for (GradMode mode : {GradMode::assign, GradMode::accumulate}) {
    const auto start = uniform(rng, n, -1, 1), ds0 = uniform(rng, c, -1, 1);
    std::vector<float> dx = start, ds = ds0;
    Tensor dx_dev = to_gpu(t.gpu, mode == GradMode::assign ? nans(n) : start), ds_dev = to_gpu(t.gpu, ds0);
    cpu::rrelu_backward<float>(t.cpu, s, x.data(), dy.data(), slope.data(), dx.data(), mode, ds.data());
    cuda::rrelu_backward(t.gpu, s, fp(x_dev), fp(dy_dev), fp(slope_dev), fp(dx_dev), mode, fp(ds_dev));
    REQUIRE_TWIN(std::string("rrelu dx ") + mode_name(mode), from_gpu<float>(t.gpu, dx_dev), dx, 0.0);
    REQUIRE_TWIN("rrelu dslope", from_gpu<float>(t.gpu, ds_dev), ds, reduction_tol);
  }
  // Each gradient alone.
  std::vector<float> ds(c, 0.25f);
  Tensor ds_dev = to_gpu(t.gpu, ds);
  cpu::rrelu_backward<float>(t.cpu, s, x.data(), dy.data(), slope.data(), nullptr, GradMode::assign, ds.data());
  cuda::rrelu_backward(t.gpu, s, fp(x_dev), fp(dy_dev), fp(slope_dev), nullptr, GradMode::assign, fp(ds_dev));
  REQUIRE_TWIN("rrelu dslope only", from_gpu<float>(t.gpu, ds_dev), ds, reduction_tol);
  std::vector<float> dx(n);
  Tensor dx_dev = to_gpu(t.gpu, nans(n));
  cpu::rrelu_backward<float>(t.cpu, s, x.data(), dy.data(), slope.data(), dx.data(), GradMode::assign, nullptr);
  cuda::rrelu_backward(t.gpu, s, fp(x_dev), fp(dy_dev), fp(slope_dev), fp(dx_dev), GradMode::assign, nullptr);
  REQUIRE_TWIN("rrelu dx only", from_gpu<float>(t.gpu, dx_dev), dx, 0.0);
}

// Inputs of one batch-norm case, on the host and on the device.
struct BnCase {
  ChannelShape s;
  Act act;
  std::vector<float> x, gamma, beta, slope, rm0, rv0, dy;
  Tensor x_dev, gamma_dev, beta_dev, slope_dev, dy_dev;

  // The slope argument of the kernels: nullptr unless the activation is RReLU.
  const float* slope_arg_host() const { return act == Act::rrelu ? slope.data() : nullptr; }
  float* slope_arg_dev() { return act == Act::rrelu ? fp(slope_dev) : nullptr; }
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
  k.x_dev = to_gpu(t.gpu, k.x);
  k.gamma_dev = to_gpu(t.gpu, k.gamma);
  k.beta_dev = to_gpu(t.gpu, k.beta);
  k.slope_dev = to_gpu(t.gpu, k.slope);
  k.dy_dev = to_gpu(t.gpu, k.dy);
  return k;
}

void cpu_forward_train(Twins& t, const BnCase& k, float* y, float* rm, float* rv, float* mean, float* invstd) {
  if (k.act == Act::none)
    cpu::batch_norm_forward_train<float>(t.cpu, k.s, k.x.data(), k.gamma.data(), k.beta.data(), rm, rv, 0.1, 1e-5, y,
                                         mean, invstd);
  else
    cpu::bn_rrelu_forward_train<float>(t.cpu, k.s, k.x.data(), k.gamma.data(), k.beta.data(), k.slope_arg_host(), rm,
                                       rv, 0.1, 1e-5, y, mean, invstd);
}

void check_bn_forward(const ChannelShape& s, Act act, double offset, uint64_t seed) {
  Twins t;
  BnCase k = make_case(t, s, act, offset, seed);
  const size_t n = s.numel(), c = s.c;
  std::vector<float> y(n), rm = k.rm0, rv = k.rv0, mean(c), invstd(c);
  cpu_forward_train(t, k, y.data(), rm.data(), rv.data(), mean.data(), invstd.data());

  Tensor y_dev = to_gpu(t.gpu, nans(n)), running_mean_dev = to_gpu(t.gpu, k.rm0),
         running_var_dev = to_gpu(t.gpu, k.rv0), mean_dev = to_gpu(t.gpu, nans(c)), invstd_dev = to_gpu(t.gpu, nans(c));
  if (act == Act::none)
    cuda::batch_norm_forward_train(t.gpu, s, fp(k.x_dev), fp(k.gamma_dev), fp(k.beta_dev), fp(running_mean_dev),
                                   fp(running_var_dev), 0.1, 1e-5, fp(y_dev), fp(mean_dev), fp(invstd_dev));
  else
    cuda::bn_rrelu_forward_train(t.gpu, s, fp(k.x_dev), fp(k.gamma_dev), fp(k.beta_dev), k.slope_arg_dev(),
                                 fp(running_mean_dev), fp(running_var_dev), 0.1, 1e-5, fp(y_dev), fp(mean_dev),
                                 fp(invstd_dev));
  REQUIRE_TWIN("y", from_gpu<float>(t.gpu, y_dev), y, reduction_tol);
  REQUIRE_CLOSE("save_mean", from_gpu<float>(t.gpu, mean_dev), mean, 1e-5 * (1 + std::fabs(offset)), reduction_tol);
  REQUIRE_TWIN("save_invstd", from_gpu<float>(t.gpu, invstd_dev), invstd, reduction_tol);
  REQUIRE_TWIN("running_mean", from_gpu<float>(t.gpu, running_mean_dev), rm, reduction_tol);
  REQUIRE_TWIN("running_var", from_gpu<float>(t.gpu, running_var_dev), rv, reduction_tol);

  // Evaluation with the updated running statistics (the CPU's, on both sides).
  std::vector<float> ye(n);
  Tensor ye_dev = to_gpu(t.gpu, nans(n)), rm_dev = to_gpu(t.gpu, rm), rv_dev = to_gpu(t.gpu, rv);
  if (act == Act::none) {
    cpu::batch_norm_forward_eval<float>(t.cpu, s, k.x.data(), k.gamma.data(), k.beta.data(), rm.data(), rv.data(), 1e-5,
                                        ye.data());
    cuda::batch_norm_forward_eval(t.gpu, s, fp(k.x_dev), fp(k.gamma_dev), fp(k.beta_dev), fp(rm_dev), fp(rv_dev), 1e-5,
                                  fp(ye_dev));
  } else {
    cpu::bn_rrelu_forward_eval<float>(t.cpu, s, k.x.data(), k.gamma.data(), k.beta.data(), k.slope_arg_host(),
                                      rm.data(), rv.data(), 1e-5, ye.data());
    cuda::bn_rrelu_forward_eval(t.gpu, s, fp(k.x_dev), fp(k.gamma_dev), fp(k.beta_dev), k.slope_arg_dev(), fp(rm_dev),
                                fp(rv_dev), 1e-5, fp(ye_dev));
  }
  REQUIRE_TWIN("y (eval)", from_gpu<float>(t.gpu, ye_dev), ye, reduction_tol);
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
    k.x_dev = to_gpu(t.gpu, k.x);
  }
  Tensor mean_dev = to_gpu(t.gpu, mean), invstd_dev = to_gpu(t.gpu, invstd);

  // cpu and gpu backward with any subset of the gradients.
  auto run = [&](float* dx, float* dg, float* db, float* ds, Tensor* dx_dev, Tensor* dg_dev, Tensor* db_dev,
                 Tensor* ds_dev, GradMode mode) {
    if (act == Act::none) {
      cpu::batch_norm_backward<float>(t.cpu, s, k.x.data(), k.dy.data(), k.gamma.data(), mean.data(), invstd.data(), dx,
                                      mode, dg, db);
      cuda::batch_norm_backward(t.gpu, s, fp(k.x_dev), fp(k.dy_dev), fp(k.gamma_dev), fp(mean_dev), fp(invstd_dev),
                                dx_dev ? fp(*dx_dev) : nullptr, mode, dg_dev ? fp(*dg_dev) : nullptr,
                                db_dev ? fp(*db_dev) : nullptr);
    } else {
      cpu::bn_rrelu_backward<float>(t.cpu, s, k.x.data(), k.dy.data(), k.gamma.data(), k.beta.data(),
                                    k.slope_arg_host(), mean.data(), invstd.data(), dx, mode, dg, db, ds);
      cuda::bn_rrelu_backward(t.gpu, s, fp(k.x_dev), fp(k.dy_dev), fp(k.gamma_dev), fp(k.beta_dev), k.slope_arg_dev(),
                              fp(mean_dev), fp(invstd_dev), dx_dev ? fp(*dx_dev) : nullptr, mode,
                              dg_dev ? fp(*dg_dev) : nullptr, db_dev ? fp(*db_dev) : nullptr,
                              ds_dev ? fp(*ds_dev) : nullptr);
    }
  };
  const bool has_slope = act == Act::rrelu;
  Rng rng(seed + 1);
  for (GradMode mode : {GradMode::assign, GradMode::accumulate}) {
    INFO("mode " << mode_name(mode));
    const auto start = uniform(rng, n, -1, 1), g0 = uniform(rng, c, -1, 1), b0 = uniform(rng, c, -1, 1),
               s0 = uniform(rng, c, -1, 1);
    std::vector<float> dx = start, dg = g0, db = b0, ds = s0;
    Tensor dx_dev = to_gpu(t.gpu, mode == GradMode::assign ? nans(n) : start), dg_dev = to_gpu(t.gpu, g0),
           db_dev = to_gpu(t.gpu, b0), ds_dev = to_gpu(t.gpu, s0);
    run(dx.data(), dg.data(), db.data(), has_slope ? ds.data() : nullptr, &dx_dev, &dg_dev, &db_dev,
        has_slope ? &ds_dev : nullptr, mode);
    REQUIRE_TWIN("dx", from_gpu<float>(t.gpu, dx_dev), dx, reduction_tol);
    REQUIRE_TWIN("dgamma", from_gpu<float>(t.gpu, dg_dev), dg, reduction_tol);
    REQUIRE_TWIN("dbeta", from_gpu<float>(t.gpu, db_dev), db, reduction_tol);
    if (has_slope) REQUIRE_TWIN("dslope", from_gpu<float>(t.gpu, ds_dev), ds, reduction_tol);
  }
  {  // parameter gradients only (no dx)
    std::vector<float> dg(c, 0.5f), db(c, -0.5f), ds(c, 0.25f);
    Tensor dg_dev = to_gpu(t.gpu, dg), db_dev = to_gpu(t.gpu, db), ds_dev = to_gpu(t.gpu, ds);
    run(nullptr, dg.data(), db.data(), has_slope ? ds.data() : nullptr, nullptr, &dg_dev, &db_dev,
        has_slope ? &ds_dev : nullptr, GradMode::assign);
    REQUIRE_TWIN("dgamma only", from_gpu<float>(t.gpu, dg_dev), dg, reduction_tol);
    REQUIRE_TWIN("dbeta only", from_gpu<float>(t.gpu, db_dev), db, reduction_tol);
    if (has_slope) REQUIRE_TWIN("dslope only", from_gpu<float>(t.gpu, ds_dev), ds, reduction_tol);
  }
  {  // dx only
    std::vector<float> dx(n);
    Tensor dx_dev = to_gpu(t.gpu, nans(n));
    run(dx.data(), nullptr, nullptr, nullptr, &dx_dev, nullptr, nullptr, nullptr, GradMode::assign);
    REQUIRE_TWIN("dx only", from_gpu<float>(t.gpu, dx_dev), dx, reduction_tol);
  }
}

void check_pool(const ChannelShape& s, uint64_t seed) {
  Twins t;
  Rng rng(seed);
  const size_t n = s.numel(), planes = s.n * s.c;
  const auto x = uniform(rng, n, -1, 1), dy = uniform(rng, planes, -1, 1);
  Tensor x_dev = to_gpu(t.gpu, x), dy_dev = to_gpu(t.gpu, dy), y_dev = to_gpu(t.gpu, nans(planes));
  std::vector<float> y(planes);
  cpu::global_avg_pool_forward<float>(t.cpu, s, x.data(), y.data());
  cuda::global_avg_pool_forward(t.gpu, s, fp(x_dev), fp(y_dev));
  REQUIRE_TWIN("pool y", from_gpu<float>(t.gpu, y_dev), y, reduction_tol);
  require_grad_modes(
      t, "pool dx", n, [&](GradMode m, float* d) { cpu::global_avg_pool_backward<float>(t.cpu, s, dy.data(), d, m); },
      [&](GradMode m, float* d) { cuda::global_avg_pool_backward(t.gpu, s, fp(dy_dev), d, m); }, elementwise_tol);
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
