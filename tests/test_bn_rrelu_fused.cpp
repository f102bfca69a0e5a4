// The fused bn_rrelu against the unfused composition rrelu(batch_norm(x)):
// outputs, running and saved statistics, dx, dgamma, dbeta and dslope, in
// training and evaluation, in double and float.
#include <catch2/catch.hpp>

#include "engine/context.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/bn_rrelu.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"

using namespace rotor;
using namespace rotor::test;

namespace {

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <class T>
void compare_fused(const ChannelShape& s, uint64_t seed, double tol) {
  Context ctx;
  Rng rng(seed);
  const auto x = cast<T>(random_vector(rng, s.numel(), -2, 2)), gamma = cast<T>(random_vector(rng, s.c, -1.5, 1.5)),
             beta = cast<T>(random_vector(rng, s.c)), slope = cast<T>(random_vector(rng, s.c, -1.5, 1.5)),
             dy = cast<T>(random_vector(rng, s.numel())), rm0 = cast<T>(random_vector(rng, s.c)),
             rv0 = cast<T>(random_vector(rng, s.c, 0.5, 2));
  const size_t n = x.size(), c = s.c;

  // Fused.
  std::vector<T> y(n), rm = rm0, rv = rv0, mean(c), invstd(c);
  cpu::bn_rrelu_forward_train<T>(ctx, s, x.data(), gamma.data(), beta.data(), slope.data(), rm.data(), rv.data(), 0.1,
                                 1e-5, y.data(), mean.data(), invstd.data());
  std::vector<T> dx(n), dg(c, T(0)), db(c, T(0)), ds(c, T(0));
  cpu::bn_rrelu_backward<T>(ctx, s, x.data(), dy.data(), gamma.data(), beta.data(), slope.data(), mean.data(),
                            invstd.data(), dx.data(), GradMode::assign, dg.data(), db.data(), ds.data());

  // Unfused: z = batch_norm(x), y = rrelu(z).
  std::vector<T> z(n), y2(n), rm2 = rm0, rv2 = rv0, mean2(c), invstd2(c);
  cpu::batch_norm_forward_train<T>(ctx, s, x.data(), gamma.data(), beta.data(), rm2.data(), rv2.data(), 0.1, 1e-5,
                                   z.data(), mean2.data(), invstd2.data());
  cpu::rrelu_forward<T>(ctx, s, z.data(), slope.data(), y2.data());
  std::vector<T> dz(n), dx2(n), dg2(c, T(0)), db2(c, T(0)), ds2(c, T(0));
  cpu::rrelu_backward<T>(ctx, s, z.data(), dy.data(), slope.data(), dz.data(), GradMode::assign, ds2.data());
  cpu::batch_norm_backward<T>(ctx, s, x.data(), dz.data(), gamma.data(), mean2.data(), invstd2.data(), dx2.data(),
                              GradMode::assign, dg2.data(), db2.data());

  REQUIRE_CLOSE("y", y, y2, tol, tol);
  REQUIRE_CLOSE("running_mean", rm, rm2, tol, tol);
  REQUIRE_CLOSE("running_var", rv, rv2, tol, tol);
  REQUIRE_CLOSE("save_mean", mean, mean2, tol, tol);
  REQUIRE_CLOSE("save_invstd", invstd, invstd2, tol, tol);
  REQUIRE_CLOSE("dx", dx, dx2, tol, tol);
  REQUIRE_CLOSE("dgamma", dg, dg2, tol, tol);
  REQUIRE_CLOSE("dbeta", db, db2, tol, tol);
  REQUIRE_CLOSE("dslope", ds, ds2, tol, tol);

  // Evaluation with the updated running statistics.
  std::vector<T> ye(n), ze(n), ye2(n);
  cpu::bn_rrelu_forward_eval<T>(ctx, s, x.data(), gamma.data(), beta.data(), slope.data(), rm.data(), rv.data(), 1e-5,
                                ye.data());
  cpu::batch_norm_forward_eval<T>(ctx, s, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), 1e-5, ze.data());
  cpu::rrelu_forward<T>(ctx, s, ze.data(), slope.data(), ye2.data());
  REQUIRE_CLOSE("y (eval)", ye, ye2, tol, tol);
}

}  // namespace

TEST_CASE("fused bn_rrelu equals batch_norm then rrelu", "[bn_rrelu][fused]") {
  for (const ChannelShape s : {ChannelShape{5, 6, 12}, ChannelShape{128, 7, 1}, ChannelShape{1, 3, 33},
                               ChannelShape{4, 16, 64}}) {
    INFO("shape n=" << s.n << " c=" << s.c << " hw=" << s.hw);
    compare_fused<double>(s, 21 + s.c, 1e-10);
    compare_fused<float>(s, 22 + s.c, 2e-4);
  }
}

TEST_CASE("bn_rrelu without a slope is batch norm + ReLU", "[bn_rrelu][fused]") {
  Context ctx;
  Rng rng(23);
  const ChannelShape s{6, 4, 9};
  const auto x = random_vector(rng, s.numel()), gamma = random_vector(rng, s.c, 0.5, 1.5),
             beta = random_vector(rng, s.c), dy = random_vector(rng, s.numel());
  const std::vector<double> ones(s.c, 1.0);
  std::vector<double> y1(s.numel()), y2(s.numel()), rm(s.c), rv(s.c, 1), m1(s.c), i1(s.c), m2(s.c), i2(s.c);
  cpu::bn_rrelu_forward_train<double>(ctx, s, x.data(), gamma.data(), beta.data(), nullptr, rm.data(), rv.data(), 0.1,
                                      1e-5, y1.data(), m1.data(), i1.data());
  cpu::bn_rrelu_forward_train<double>(ctx, s, x.data(), gamma.data(), beta.data(), ones.data(), rm.data(), rv.data(),
                                      0.1, 1e-5, y2.data(), m2.data(), i2.data());
  REQUIRE_CLOSE("y", y1, y2, 0.0, 0.0);
  std::vector<double> dx1(s.numel()), dx2(s.numel()), dg1(s.c), dg2(s.c), db1(s.c), db2(s.c);
  cpu::bn_rrelu_backward<double>(ctx, s, x.data(), dy.data(), gamma.data(), beta.data(), nullptr, m1.data(), i1.data(),
                                 dx1.data(), GradMode::assign, dg1.data(), db1.data(), nullptr);
  cpu::bn_rrelu_backward<double>(ctx, s, x.data(), dy.data(), gamma.data(), beta.data(), ones.data(), m2.data(),
                                 i2.data(), dx2.data(), GradMode::assign, dg2.data(), db2.data(), nullptr);
  REQUIRE_CLOSE("dx", dx1, dx2, 0.0, 0.0);
  REQUIRE_CLOSE("dgamma", dg1, dg2, 0.0, 0.0);
  REQUIRE_CLOSE("dbeta", db1, db2, 0.0, 0.0);
}
