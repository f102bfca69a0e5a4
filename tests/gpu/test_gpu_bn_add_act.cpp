// The CUDA bn_add_act (batch norm + residual add + ReLU/RReLU) against its
// CPU twin: output, saved and running statistics in training, the output in
// evaluation, and every gradient (dx and dr in both GradModes, dgamma,
// dbeta, dslope from random offsets, and each gradient alone).
#include <catch2/catch.hpp>

#include "kernels/bn_add_act.h"
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

namespace {

// Odd shapes (scalar path, HW = 1, one sample) and ones spread over many
// blocks per channel, as for bn_rrelu.
const ChannelShape small_shapes[] = {{1, 3, 33}, {128, 7, 1}, {3, 5, 63}, {2, 4, 4}, {5, 16, 36}};
const ChannelShape large_shapes[] = {{16, 16, 1024}, {32, 64, 64}};

std::string describe(const ChannelShape& s, bool with_slope) {
  return "N=" + std::to_string(s.n) + " C=" + std::to_string(s.c) + " HW=" + std::to_string(s.hw) +
         (with_slope ? " rrelu" : " relu");
}

void check_bn_add_act(const ChannelShape& s, bool with_slope, uint64_t seed) {
  Twins t;
  Rng rng(seed);
  const size_t n = s.numel(), c = s.c;
  const auto x = normal(rng, n, 0.5, 2.0), gamma = signed_magnitudes(rng, c, 0.5, 1.5), beta = uniform(rng, c, -1, 1),
             slope_values = signed_magnitudes(rng, c, 0.5, 1.5), rm0 = uniform(rng, c, -1, 1),
             rv0 = uniform(rng, c, 0.5, 2), dy = uniform(rng, n, -1, 1);
  auto r = uniform(rng, n, -1, 1);
  const float* slope = with_slope ? slope_values.data() : nullptr;
  Tensor dx_in = to_gpu(t.gpu, x), dgamma_in = to_gpu(t.gpu, gamma), dbeta_in = to_gpu(t.gpu, beta),
         dslope_in = to_gpu(t.gpu, slope_values), ddy = to_gpu(t.gpu, dy);
  float* slope_dev = with_slope ? fp(dslope_in) : nullptr;

  // Training forward.
  std::vector<float> y(n), rm = rm0, rv = rv0, mean(c), invstd(c);
  cpu::bn_add_act_forward_train<float>(t.cpu, s, x.data(), r.data(), gamma.data(), beta.data(), slope, rm.data(),
                                       rv.data(), 0.1, 1e-5, y.data(), mean.data(), invstd.data());
  {
    Tensor dr_in = to_gpu(t.gpu, r), dy_out = to_gpu(t.gpu, nans(n)), drm = to_gpu(t.gpu, rm0),
           drv = to_gpu(t.gpu, rv0), dmean = to_gpu(t.gpu, nans(c)), dinv = to_gpu(t.gpu, nans(c));
    cuda::bn_add_act_forward_train(t.gpu, s, fp(dx_in), fp(dr_in), fp(dgamma_in), fp(dbeta_in), slope_dev, fp(drm),
                                   fp(drv), 0.1, 1e-5, fp(dy_out), fp(dmean), fp(dinv));
    REQUIRE_TWIN("y", from_gpu<float>(t.gpu, dy_out), y, reduction_tol);
    REQUIRE_CLOSE("save_mean", from_gpu<float>(t.gpu, dmean), mean, 1e-5, reduction_tol);
    REQUIRE_TWIN("save_invstd", from_gpu<float>(t.gpu, dinv), invstd, reduction_tol);
    REQUIRE_TWIN("running_mean", from_gpu<float>(t.gpu, drm), rm, reduction_tol);
    REQUIRE_TWIN("running_var", from_gpu<float>(t.gpu, drv), rv, reduction_tol);
  }
  // Evaluation with the updated running statistics (the CPU's, on both sides).
  {
    std::vector<float> ye(n);
    Tensor dr_in = to_gpu(t.gpu, r), dye = to_gpu(t.gpu, nans(n)), rm_dev = to_gpu(t.gpu, rm),
           rv_dev = to_gpu(t.gpu, rv);
    cpu::bn_add_act_forward_eval<float>(t.cpu, s, x.data(), r.data(), gamma.data(), beta.data(), slope, rm.data(),
                                        rv.data(), 1e-5, ye.data());
    cuda::bn_add_act_forward_eval(t.gpu, s, fp(dx_in), fp(dr_in), fp(dgamma_in), fp(dbeta_in), slope_dev, fp(rm_dev),
                                  fp(rv_dev), 1e-5, fp(dye));
    REQUIRE_TWIN("y (eval)", from_gpu<float>(t.gpu, dye), ye, reduction_tol);
  }

  // Backward. Keep z = BN(x) + r away from the kink, where the CPU (batch
  // norm in double) and the GPU (float) may decide differently: move r.
  for (size_t i = 0; i < n; ++i) {
    const size_t ch = (i / s.hw) % c;
    const double z = static_cast<double>(gamma[ch]) * invstd[ch] * (x[i] - mean[ch]) + beta[ch] + r[i];
    if (std::fabs(z) < 1e-3) r[i] += static_cast<float>(z < 0 ? -2e-3 : 2e-3);
  }
  Tensor dr_in = to_gpu(t.gpu, r), dmean = to_gpu(t.gpu, mean), dinv = to_gpu(t.gpu, invstd);
  struct Grads {
    float *dx, *dr, *dg, *db, *ds;
  };
  auto run = [&](Grads h, Grads d, GradMode dx_mode, GradMode dr_mode) {
    cpu::bn_add_act_backward<float>(t.cpu, s, x.data(), r.data(), dy.data(), gamma.data(), beta.data(), slope,
                                    mean.data(), invstd.data(), h.dx, dx_mode, h.dr, dr_mode, h.dg, h.db, h.ds);
    cuda::bn_add_act_backward(t.gpu, s, fp(dx_in), fp(dr_in), fp(ddy), fp(dgamma_in), fp(dbeta_in), slope_dev,
                              fp(dmean), fp(dinv), d.dx, dx_mode, d.dr, dr_mode, d.dg, d.db, d.ds);
  };
  Rng grads_rng(seed + 1);
  // Every mode pair: dx and dr have their own GradMode.
  for (GradMode dx_mode : {GradMode::assign, GradMode::accumulate})
    for (GradMode dr_mode : {GradMode::assign, GradMode::accumulate}) {
      INFO("dx " << mode_name(dx_mode) << ", dr " << mode_name(dr_mode));
      const auto dx0 = uniform(grads_rng, n, -1, 1), dr0 = uniform(grads_rng, n, -1, 1),
                 g0 = uniform(grads_rng, c, -1, 1), b0 = uniform(grads_rng, c, -1, 1),
                 s0 = uniform(grads_rng, c, -1, 1);
      std::vector<float> dx = dx0, dr = dr0, dg = g0, db = b0, ds = s0;
      Tensor ddx = to_gpu(t.gpu, dx_mode == GradMode::assign ? nans(n) : dx0),
             ddr = to_gpu(t.gpu, dr_mode == GradMode::assign ? nans(n) : dr0), ddg = to_gpu(t.gpu, g0),
             ddb = to_gpu(t.gpu, b0), dds = to_gpu(t.gpu, s0);
      run({dx.data(), dr.data(), dg.data(), db.data(), with_slope ? ds.data() : nullptr},
          {fp(ddx), fp(ddr), fp(ddg), fp(ddb), with_slope ? fp(dds) : nullptr}, dx_mode, dr_mode);
      REQUIRE_TWIN("dx", from_gpu<float>(t.gpu, ddx), dx, reduction_tol);
      REQUIRE_TWIN("dr", from_gpu<float>(t.gpu, ddr), dr, elementwise_tol);
      REQUIRE_TWIN("dgamma", from_gpu<float>(t.gpu, ddg), dg, reduction_tol);
      REQUIRE_TWIN("dbeta", from_gpu<float>(t.gpu, ddb), db, reduction_tol);
      if (with_slope) REQUIRE_TWIN("dslope", from_gpu<float>(t.gpu, dds), ds, reduction_tol);
    }
  const GradMode a = GradMode::assign;
  {  // dr alone (a block whose input needs no gradient for its branch)
    std::vector<float> dr(n);
    Tensor ddr = to_gpu(t.gpu, nans(n));
    run({nullptr, dr.data(), nullptr, nullptr, nullptr}, {nullptr, fp(ddr), nullptr, nullptr, nullptr}, a, a);
    REQUIRE_TWIN("dr only", from_gpu<float>(t.gpu, ddr), dr, elementwise_tol);
  }
  {  // dx alone
    std::vector<float> dx(n);
    Tensor ddx = to_gpu(t.gpu, nans(n));
    run({dx.data(), nullptr, nullptr, nullptr, nullptr}, {fp(ddx), nullptr, nullptr, nullptr, nullptr}, a, a);
    REQUIRE_TWIN("dx only", from_gpu<float>(t.gpu, ddx), dx, reduction_tol);
  }
  {  // parameter gradients alone
    std::vector<float> dg(c, 0.5f), db(c, -0.5f), ds(c, 0.25f);
    Tensor ddg = to_gpu(t.gpu, dg), ddb = to_gpu(t.gpu, db), dds = to_gpu(t.gpu, ds);
    run({nullptr, nullptr, dg.data(), db.data(), with_slope ? ds.data() : nullptr},
        {nullptr, nullptr, fp(ddg), fp(ddb), with_slope ? fp(dds) : nullptr}, a, a);
    REQUIRE_TWIN("dgamma only", from_gpu<float>(t.gpu, ddg), dg, reduction_tol);
    REQUIRE_TWIN("dbeta only", from_gpu<float>(t.gpu, ddb), db, reduction_tol);
    if (with_slope) REQUIRE_TWIN("dslope only", from_gpu<float>(t.gpu, dds), ds, reduction_tol);
  }
}

}  // namespace

TEST_CASE("gpu bn_add_act forward and backward (small shapes)", "[gpu][bn_add_act][sanitize]") {
  uint64_t seed = 90;
  for (const ChannelShape& s : small_shapes)
    for (bool with_slope : {true, false}) {
      INFO(describe(s, with_slope));
      check_bn_add_act(s, with_slope, ++seed);
    }
}

TEST_CASE("gpu bn_add_act forward and backward (large shapes)", "[gpu][bn_add_act]") {
  uint64_t seed = 110;
  for (const ChannelShape& s : large_shapes)
    for (bool with_slope : {true, false}) {
      INFO(describe(s, with_slope));
      check_bn_add_act(s, with_slope, ++seed);
    }
}
