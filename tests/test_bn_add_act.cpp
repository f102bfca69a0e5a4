// The fused bn_add_act against the unfused sequence it replaces in a ResNet
// block, rrelu(add(batch_norm(x), r)): kernels in float and double, and the
// op on a Graph where the residual's gradient must accumulate in place.
//
// Tolerances: the forward keeps every rounding step of the unfused sequence
// (batch-norm output rounded to T, then + r, then * b), so y, the saved and
// the running statistics are compared bit for bit. The backward recomputes
// z = BN(x) + r from the saved float statistics instead of reading the
// stored sum, and sums in another order (double accumulators, rounded once):
// gradients agree to a few float ulps of the tensor's scale (1e-5 here),
// and exactly in double but for the summation order (1e-12).
#include <catch2/catch.hpp>

#include "engine/context.h"
#include "engine/ops.h"
#include "engine/tensor_util.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/bn_add_act.h"
#include "kernels/elementwise.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"

using namespace rotor;
using namespace rotor::test;

namespace {

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

double scale_of(const std::vector<double>& v) {
  double m = 1e-30;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

template <class T>
void require_close_scaled(const std::string& what, const std::vector<T>& got, const std::vector<T>& ref, double tol) {
  const std::vector<double> r(ref.begin(), ref.end());
  REQUIRE_CLOSE(what, got, ref, tol * scale_of(r), tol);
}

// One comparison; `with_slope` false is the ReLU form. dr is checked in both
// modes, the accumulate one from a known start.
template <class T>
void compare_unfused(const ChannelShape& s, bool with_slope, uint64_t seed, double grad_tol) {
  Context ctx;
  Rng rng(seed);
  const auto x = cast<T>(random_vector(rng, s.numel(), -2, 2)), r = cast<T>(random_vector(rng, s.numel(), -1, 1)),
             gamma = cast<T>(random_vector(rng, s.c, -1.5, 1.5)), beta = cast<T>(random_vector(rng, s.c)),
             slope_values = cast<T>(random_vector(rng, s.c, -1.5, 1.5)), dy = cast<T>(random_vector(rng, s.numel())),
             rm0 = cast<T>(random_vector(rng, s.c)), rv0 = cast<T>(random_vector(rng, s.c, 0.5, 2)),
             dr_start = cast<T>(random_vector(rng, s.numel()));
  const T* slope = with_slope ? slope_values.data() : nullptr;
  const size_t n = x.size(), c = s.c;

  // Fused.
  std::vector<T> y(n), rm = rm0, rv = rv0, mean(c), invstd(c);
  cpu::bn_add_act_forward_train<T>(ctx, s, x.data(), r.data(), gamma.data(), beta.data(), slope, rm.data(), rv.data(),
                                   0.1, 1e-5, y.data(), mean.data(), invstd.data());
  std::vector<T> dx(n), dr(n), dr_acc = dr_start, dg(c, T(0)), db(c, T(0)), ds(c, T(0));
  cpu::bn_add_act_backward<T>(ctx, s, x.data(), r.data(), dy.data(), gamma.data(), beta.data(), slope, mean.data(),
                              invstd.data(), dx.data(), GradMode::assign, dr.data(), GradMode::assign, dg.data(),
                              db.data(), with_slope ? ds.data() : nullptr);
  cpu::bn_add_act_backward<T>(ctx, s, x.data(), r.data(), dy.data(), gamma.data(), beta.data(), slope, mean.data(),
                              invstd.data(), nullptr, GradMode::assign, dr_acc.data(), GradMode::accumulate, nullptr,
                              nullptr, nullptr);

  // Unfused: b = batch_norm(x), z = b + r, y = rrelu(z) (relu without a slope).
  std::vector<T> bn(n), z(n), y2(n), rm2 = rm0, rv2 = rv0, mean2(c), invstd2(c);
  cpu::batch_norm_forward_train<T>(ctx, s, x.data(), gamma.data(), beta.data(), rm2.data(), rv2.data(), 0.1, 1e-5,
                                   bn.data(), mean2.data(), invstd2.data());
  cpu::add_forward<T>(ctx, s.numel(), bn.data(), r.data(), z.data());
  if (with_slope)
    cpu::rrelu_forward<T>(ctx, s, z.data(), slope, y2.data());
  else
    cpu::relu_forward<T>(ctx, s.numel(), z.data(), y2.data());
  std::vector<T> dz(n), dx2(n), dr2(n), dr2_acc = dr_start, dg2(c, T(0)), db2(c, T(0)), ds2(c, T(0));
  if (with_slope)
    cpu::rrelu_backward<T>(ctx, s, z.data(), dy.data(), slope, dz.data(), GradMode::assign, ds2.data());
  else
    cpu::relu_backward<T>(ctx, s.numel(), z.data(), dy.data(), dz.data(), GradMode::assign);
  cpu::copy_grad<T>(ctx, s.numel(), dz.data(), dr2.data(), GradMode::assign);
  cpu::copy_grad<T>(ctx, s.numel(), dz.data(), dr2_acc.data(), GradMode::accumulate);
  cpu::batch_norm_backward<T>(ctx, s, x.data(), dz.data(), gamma.data(), mean2.data(), invstd2.data(), dx2.data(),
                              GradMode::assign, dg2.data(), db2.data());

  REQUIRE_CLOSE("y", y, y2, 0.0, 0.0);
  REQUIRE_CLOSE("running_mean", rm, rm2, 0.0, 0.0);
  REQUIRE_CLOSE("running_var", rv, rv2, 0.0, 0.0);
  REQUIRE_CLOSE("save_mean", mean, mean2, 0.0, 0.0);
  REQUIRE_CLOSE("save_invstd", invstd, invstd2, 0.0, 0.0);
  require_close_scaled("dr (assign)", dr, dr2, grad_tol);
  require_close_scaled("dr (accumulate)", dr_acc, dr2_acc, grad_tol);
  require_close_scaled("dx", dx, dx2, grad_tol);
  require_close_scaled("dgamma", dg, dg2, grad_tol);
  require_close_scaled("dbeta", db, db2, grad_tol);
  if (with_slope) require_close_scaled("dslope", ds, ds2, grad_tol);

  // Evaluation with the updated running statistics.
  std::vector<T> ye(n), be(n), ze(n), ye2(n);
  cpu::bn_add_act_forward_eval<T>(ctx, s, x.data(), r.data(), gamma.data(), beta.data(), slope, rm.data(), rv.data(),
                                  1e-5, ye.data());
  cpu::batch_norm_forward_eval<T>(ctx, s, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), 1e-5, be.data());
  cpu::add_forward<T>(ctx, s.numel(), be.data(), r.data(), ze.data());
  if (with_slope)
    cpu::rrelu_forward<T>(ctx, s, ze.data(), slope, ye2.data());
  else
    cpu::relu_forward<T>(ctx, s.numel(), ze.data(), ye2.data());
  REQUIRE_CLOSE("y (eval)", ye, ye2, 0.0, 0.0);
}

}  // namespace

TEST_CASE("fused bn_add_act equals batch_norm, add, then rrelu or relu", "[bn_add_act][fused]") {
  for (const ChannelShape s : {ChannelShape{5, 6, 12}, ChannelShape{128, 7, 1}, ChannelShape{1, 3, 33},
                               ChannelShape{4, 16, 64}}) {
    for (const bool with_slope : {true, false}) {
      INFO("shape n=" << s.n << " c=" << s.c << " hw=" << s.hw << (with_slope ? " rrelu" : " relu"));
      compare_unfused<double>(s, with_slope, 31 + s.c, 1e-12);
      compare_unfused<float>(s, with_slope, 32 + s.c, 1e-5);
    }
  }
}

// On a Graph: the residual also feeds a later op, so its gradient target
// already holds that op's gradient when bn_add_act's backward runs, which
// must add to it. The same network with the unfused ops is the reference.
TEST_CASE("bn_add_act on a graph accumulates the residual's gradient in place", "[bn_add_act][fused]") {
  Context ctx;
  Rng rng(41);
  const Shape shape{3, 4, 5, 5};
  const int64_t numel = shape_numel(shape);
  const auto xv = to_float(random_vector(rng, numel, -2, 2)), rv = to_float(random_vector(rng, numel)),
             gv = to_float(random_vector(rng, 4, 0.5, 1.5)), bv = to_float(random_vector(rng, 4, -0.5, 0.5)),
             sv = to_float(random_vector(rng, 4, -1.5, 1.5));
  Tensor labels = Tensor::host({3}, DType::i32);
  for (int i = 0; i < 3; ++i) labels.data<int32_t>()[i] = i;

  struct Result {
    std::vector<float> loss, dx, dr, dgamma, dbeta, dslope, running_mean;
  };
  auto run = [&](bool fused) {
    Var x = make_var(from_host(ctx, shape, xv), true), r = make_var(from_host(ctx, shape, rv), true);
    Var gamma = make_var(from_host(ctx, {4}, gv), true), beta = make_var(from_host(ctx, {4}, bv), true),
        slope = make_var(from_host(ctx, {4}, sv), true);
    Tensor running_mean = from_host(ctx, {4}, std::vector<float>(4, 0.0f)),
           running_var = from_host(ctx, {4}, std::vector<float>(4, 1.0f));
    Graph g(ctx, true);
    Var y = fused ? bn_add_act(g, x, r, gamma, beta, slope, running_mean, running_var)
                  : rrelu(g, add(g, batch_norm(g, x, gamma, beta, running_mean, running_var), r), slope);
    Var out = add(g, y, r);  // r read again, after the block: its gradient is assigned first
    Var loss = softmax_cross_entropy(g, global_avg_pool(g, out), labels);
    g.backward(loss);
    return Result{host_values(ctx, loss->value), host_values(ctx, x->grad),     host_values(ctx, r->grad),
                  host_values(ctx, gamma->grad), host_values(ctx, beta->grad), host_values(ctx, slope->grad),
                  host_values(ctx, running_mean)};
  };
  const Result fused = run(true), unfused = run(false);
  REQUIRE_CLOSE("loss", fused.loss, unfused.loss, 0.0, 0.0);
  REQUIRE_CLOSE("running_mean", fused.running_mean, unfused.running_mean, 0.0, 0.0);
  require_close_scaled("dx", fused.dx, unfused.dx, 1e-5);
  require_close_scaled("dr", fused.dr, unfused.dr, 1e-5);
  require_close_scaled("dgamma", fused.dgamma, unfused.dgamma, 1e-5);
  require_close_scaled("dbeta", fused.dbeta, unfused.dbeta, 1e-5);
  require_close_scaled("dslope", fused.dslope, unfused.dslope, 1e-5);
}

TEST_CASE("bn_add_act refuses a residual of another shape", "[bn_add_act]") {
  Context ctx;
  Var x = make_var(from_host(ctx, {2, 3, 2, 2}, std::vector<float>(24, 1.0f)));
  Var r = make_var(from_host(ctx, {2, 3, 2, 1}, std::vector<float>(12, 1.0f)));
  Var gamma = make_var(from_host(ctx, {3}, std::vector<float>(3, 1.0f)));
  Var beta = make_var(from_host(ctx, {3}, std::vector<float>(3, 0.0f)));
  Tensor rm = from_host(ctx, {3}, std::vector<float>(3, 0.0f)), rv = from_host(ctx, {3}, std::vector<float>(3, 1.0f));
  Graph g(ctx, true);
  REQUIRE_THROWS_WITH(bn_add_act(g, x, r, gamma, beta, nullptr, rm, rv),
                      Catch::Contains("bn_add_act: residual (2, 3, 2, 1) does not match input (2, 3, 2, 2)"));
}
