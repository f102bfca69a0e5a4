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
  Tensor x_dev = to_gpu(t.gpu, x), gamma_dev = to_gpu(t.gpu, gamma), beta_dev = to_gpu(t.gpu, beta),
         slope_values_dev = to_gpu(t.gpu, slope_values), dy_dev = to_gpu(t.gpu, dy);
  float* slope_dev = with_slope ? fp(slope_values_dev) : nullptr;

  // Training forward.
  std::vector<float> y(n), rm = rm0, rv = rv0, mean(c), invstd(c);
  cpu::bn_add_act_forward_train<float>(t.cpu, s, x.data(), r.data(), gamma.data(), beta.data(), slope, rm.data(),
                                       rv.data(), 0.1, 1e-5, y.data(), mean.data(), invstd.data());
  {
    Tensor r_dev = to_gpu(t.gpu, r), y_dev = to_gpu(t.gpu, nans(n)), running_mean_dev = to_gpu(t.gpu, rm0),
           running_var_dev = to_gpu(t.gpu, rv0), mean_dev = to_gpu(t.gpu, nans(c)), invstd_dev = to_gpu(t.gpu, nans(c));
    cuda::bn_add_act_forward_train(t.gpu, s, fp(x_dev), fp(r_dev), fp(gamma_dev), fp(beta_dev), slope_dev,
                                   fp(running_mean_dev), fp(running_var_dev), 0.1, 1e-5, fp(y_dev), fp(mean_dev),
                                   fp(invstd_dev));
    REQUIRE_TWIN("y", from_gpu<float>(t.gpu, y_dev), y, reduction_tol);
    REQUIRE_CLOSE("save_mean", from_gpu<float>(t.gpu, mean_dev), mean, 1e-5, reduction_tol);
    REQUIRE_TWIN("save_invstd", from_gpu<float>(t.gpu, invstd_dev), invstd, reduction_tol);
    REQUIRE_TWIN("running_mean", from_gpu<float>(t.gpu, running_mean_dev), rm, reduction_tol);
    REQUIRE_TWIN("running_var", from_gpu<float>(t.gpu, running_var_dev), rv, reduction_tol);
  }
  // Evaluation with the updated running statistics (the CPU's, on both sides).
  {
    std::vector<float> ye(n);
    Tensor r_dev = to_gpu(t.gpu, r), ye_dev = to_gpu(t.gpu, nans(n)), rm_dev = to_gpu(t.gpu, rm),
           rv_dev = to_gpu(t.gpu, rv);
    cpu::bn_add_act_forward_eval<float>(t.cpu, s, x.data(), r.data(), gamma.data(), beta.data(), slope, rm.data(),
                                        rv.data(), 1e-5, ye.data());
    cuda::bn_add_act_forward_eval(t.gpu, s, fp(x_dev), fp(r_dev), fp(gamma_dev), fp(beta_dev), slope_dev, fp(rm_dev),
                                  fp(rv_dev), 1e-5, fp(ye_dev));
    REQUIRE_TWIN("y (eval)", from_gpu<float>(t.gpu, ye_dev), ye, reduction_tol);
  }

  // Backward. Keep z = BN(x) + r away from the kink, where the CPU (batch
  // norm in double) and the GPU (float) may decide differently: move r.
  for (size_t i = 0; i < n; ++i) {
    const size_t ch = (i / s.hw) % c;
    const double z = static_cast<double>(gamma[ch]) * invstd[ch] * (x[i] - mean[ch]) + beta[ch] + r[i];
    if (std::fabs(z) < 1e-3) r[i] += static_cast<float>(z < 0 ? -2e-3 : 2e-3);
  }
  Tensor r_dev = to_gpu(t.gpu, r), mean_dev = to_gpu(t.gpu, mean), invstd_dev = to_gpu(t.gpu, invstd);
  struct Grads {
    float *dx, *dr, *dg, *db, *ds;
  };
  auto run = [&](Grads host, Grads dev, GradMode dx_mode, GradMode dr_mode) {
    cpu::bn_add_act_backward<float>(t.cpu, s, x.data(), r.data(), dy.data(), gamma.data(), beta.data(), slope,
                                    mean.data(), invstd.data(), host.dx, dx_mode, host.dr, dr_mode, host.dg, host.db,
                                    host.ds);
    cuda::bn_add_act_backward(t.gpu, s, fp(x_dev), fp(r_dev), fp(dy_dev), fp(gamma_dev), fp(beta_dev), slope_dev,
                              fp(mean_dev), fp(invstd_dev), dev.dx, dx_mode, dev.dr, dr_mode, dev.dg, dev.db, dev.ds);
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
      Tensor dx_dev = to_gpu(t.gpu, dx_mode == GradMode::assign ? nans(n) : dx0),
             dr_dev = to_gpu(t.gpu, dr_mode == GradMode::assign ? nans(n) : dr0), dg_dev = to_gpu(t.gpu, g0),
             db_dev = to_gpu(t.gpu, b0), ds_dev = to_gpu(t.gpu, s0);
      run({dx.data(), dr.data(), dg.data(), db.data(), with_slope ? ds.data() : nullptr},
          {fp(dx_dev), fp(dr_dev), fp(dg_dev), fp(db_dev), with_slope ? fp(ds_dev) : nullptr}, dx_mode, dr_mode);
      REQUIRE_TWIN("dx", from_gpu<float>(t.gpu, dx_dev), dx, reduction_tol);
      REQUIRE_TWIN("dr", from_gpu<float>(t.gpu, dr_dev), dr, elementwise_tol);
      REQUIRE_TWIN("dgamma", from_gpu<float>(t.gpu, dg_dev), dg, reduction_tol);
      REQUIRE_TWIN("dbeta", from_gpu<float>(t.gpu, db_dev), db, reduction_tol);
      if (with_slope) REQUIRE_TWIN("dslope", from_gpu<float>(t.gpu, ds_dev), ds, reduction_tol);
    }
  const GradMode a = GradMode::assign;
  {  // dr alone (a block whose input needs no gradient for its branch)
    std::vector<float> dr(n);
    Tensor dr_dev = to_gpu(t.gpu, nans(n));
    run({nullptr, dr.data(), nullptr, nullptr, nullptr}, {nullptr, fp(dr_dev), nullptr, nullptr, nullptr}, a, a);
    REQUIRE_TWIN("dr only", from_gpu<float>(t.gpu, dr_dev), dr, elementwise_tol);
  }
  {  // dx alone
    std::vector<float> dx(n);
    Tensor dx_dev = to_gpu(t.gpu, nans(n));
    run({dx.data(), nullptr, nullptr, nullptr, nullptr}, {fp(dx_dev), nullptr, nullptr, nullptr, nullptr}, a, a);
    REQUIRE_TWIN("dx only", from_gpu<float>(t.gpu, dx_dev), dx, reduction_tol);
  }
  {  // parameter gradients alone
    std::vector<float> dg(c, 0.5f), db(c, -0.5f), ds(c, 0.25f);
    Tensor dg_dev = to_gpu(t.gpu, dg), db_dev = to_gpu(t.gpu, db), ds_dev = to_gpu(t.gpu, ds);
    run({nullptr, nullptr, dg.data(), db.data(), with_slope ? ds.data() : nullptr},
        {nullptr, nullptr, fp(dg_dev), fp(db_dev), with_slope ? fp(ds_dev) : nullptr}, a, a);
    REQUIRE_TWIN("dgamma only", from_gpu<float>(t.gpu, dg_dev), dg, reduction_tol);
    REQUIRE_TWIN("dbeta only", from_gpu<float>(t.gpu, db_dev), db, reduction_tol);
    if (with_slope) REQUIRE_TWIN("dslope only", from_gpu<float>(t.gpu, ds_dev), ds, reduction_tol);
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
