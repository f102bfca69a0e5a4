// Every CPU backward against central differences, in double precision.
//
// Loss L = sum(r * y) with random r, so the analytic gradient is backward(dy = r).
// Input gradients are pre-filled with junk before an `assign` backward (it
// must overwrite them) and with a known value before an `accumulate` one (it
// must add); parameter gradients start at a known offset (they accumulate).
#include <catch2/catch.hpp>

#include "engine/context.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/bn_add_act.h"
#include "kernels/bn_rrelu.h"
#include "kernels/channel_select.h"
#include "kernels/conv2d.h"
#include "kernels/dropout.h"
#include "kernels/linear.h"
#include "kernels/pool.h"
#include "kernels/shortcut.h"
#include "kernels/softmax_ce.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"

using namespace rotor;
using namespace rotor::test;

namespace {

constexpr double junk = 1234.5;       // must be overwritten by an assign
constexpr double offset = 0.25;       // accumulated onto
constexpr double grad_atol = 1e-7, grad_rtol = 1e-6;

std::vector<double> minus(std::vector<double> v, double c) {
  for (double& x : v) x -= c;
  return v;
}

// Runs an input-gradient backward twice: assign onto junk and accumulate
// onto `offset`; both must equal `expected`.
template <class Backward>
void check_input_grad(const std::string& what, size_t n, const std::vector<double>& expected, Backward backward) {
  std::vector<double> assigned(n, junk), accumulated(n, offset);
  backward(assigned.data(), GradMode::assign);
  backward(accumulated.data(), GradMode::accumulate);
  REQUIRE_CLOSE(what + " (assign)", assigned, expected, grad_atol, grad_rtol);
  REQUIRE_CLOSE(what + " (accumulate)", minus(accumulated, offset), expected, grad_atol, grad_rtol);
}

}  // namespace

TEST_CASE("conv2d backward matches central differences", "[grad][conv2d]") {
  Context ctx;
  Rng rng(11);
  const std::vector<ConvShape> shapes = {
      {2, 3, 7, 6, 4, 3, 3, 1, 1},  // 3x3 same padding, odd sizes
      {1, 2, 9, 8, 3, 3, 3, 2, 1},  // stride 2, rectangular
      {3, 4, 5, 5, 2, 1, 1, 2, 0},  // 1x1 stride 2 (a projection shortcut)
      {2, 3, 4, 3, 5, 1, 1, 1, 0},  // pointwise (no im2col)
      {1, 1, 5, 5, 2, 5, 5, 1, 0},  // kernel as large as the input
  };
  for (const ConvShape& s : shapes) {
    INFO("conv shape n=" << s.n << " c_in=" << s.c_in << " " << s.h << "x" << s.w << " c_out=" << s.c_out << " k="
                         << s.kh << " stride=" << s.stride << " pad=" << s.pad);
    std::vector<double> x = random_vector(rng, s.x_numel()), w = random_vector(rng, s.w_numel());
    const std::vector<double> r = random_vector(rng, s.y_numel());
    std::vector<double> y(s.y_numel());
    auto loss = [&] {
      cpu::conv2d_forward<double>(ctx, s, x.data(), w.data(), y.data());
      return dot(y, r);
    };
    const auto ndx = numeric_grad(x, loss), ndw = numeric_grad(w, loss);
    check_input_grad("conv2d dx", x.size(), ndx, [&](double* dx, GradMode mode) {
      cpu::conv2d_backward_data<double>(ctx, s, r.data(), w.data(), dx, mode);
    });
    std::vector<double> dw(w.size(), offset);
    cpu::conv2d_backward_weight<double>(ctx, s, x.data(), r.data(), dw.data());
    REQUIRE_CLOSE("conv2d dw", minus(dw, offset), ndw, grad_atol, grad_rtol);
  }
}

TEST_CASE("linear backward matches central differences", "[grad][linear]") {
  Context ctx;
  Rng rng(12);
  for (const LinearShape s : {LinearShape{5, 7, 4}, LinearShape{1, 3, 9}, LinearShape{33, 17, 10}}) {
    std::vector<double> x = random_vector(rng, s.n * s.in), w = random_vector(rng, s.out * s.in),
                        b = random_vector(rng, s.out);
    const std::vector<double> r = random_vector(rng, s.n * s.out);
    std::vector<double> y(s.n * s.out);
    auto loss = [&] {
      cpu::linear_forward<double>(ctx, s, x.data(), w.data(), b.data(), y.data());
      return dot(y, r);
    };
    const auto ndx = numeric_grad(x, loss), ndw = numeric_grad(w, loss), ndb = numeric_grad(b, loss);
    check_input_grad("linear dx", x.size(), ndx, [&](double* dx, GradMode mode) {
      cpu::linear_backward_data<double>(ctx, s, r.data(), w.data(), dx, mode);
    });
    std::vector<double> dw(w.size(), offset), db(b.size(), offset);
    cpu::linear_backward_weight<double>(ctx, s, x.data(), r.data(), dw.data(), db.data());
    REQUIRE_CLOSE("linear dw", minus(dw, offset), ndw, grad_atol, grad_rtol);
    REQUIRE_CLOSE("linear dbias", minus(db, offset), ndb, grad_atol, grad_rtol);
  }
}

TEST_CASE("batch_norm backward matches central differences", "[grad][batch_norm]") {
  Context ctx;
  Rng rng(13);
  for (const ChannelShape s : {ChannelShape{4, 3, 15}, ChannelShape{8, 5, 1}, ChannelShape{1, 2, 7}}) {
    INFO("shape n=" << s.n << " c=" << s.c << " hw=" << s.hw);
    std::vector<double> x = random_vector(rng, s.numel(), -2, 2), gamma = random_vector(rng, s.c, 0.5, 1.5),
                        beta = random_vector(rng, s.c);
    const std::vector<double> r = random_vector(rng, s.numel());
    std::vector<double> y(s.numel()), rm(s.c), rv(s.c), mean(s.c), invstd(s.c);
    auto loss = [&] {
      cpu::batch_norm_forward_train<double>(ctx, s, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), 0.1,
                                            1e-5, y.data(), mean.data(), invstd.data());
      return dot(y, r);
    };
    const auto ndx = numeric_grad(x, loss, 1e-5), ndg = numeric_grad(gamma, loss), ndb = numeric_grad(beta, loss);
    loss();  // saved statistics of the unperturbed input
    check_input_grad("batch_norm dx", x.size(), ndx, [&](double* dx, GradMode mode) {
      cpu::batch_norm_backward<double>(ctx, s, x.data(), r.data(), gamma.data(), mean.data(), invstd.data(), dx, mode,
                                       nullptr, nullptr);
    });
    std::vector<double> dg(s.c, offset), db(s.c, offset);
    cpu::batch_norm_backward<double>(ctx, s, x.data(), r.data(), gamma.data(), mean.data(), invstd.data(), nullptr,
                                     GradMode::assign, dg.data(), db.data());
    REQUIRE_CLOSE("batch_norm dgamma", minus(dg, offset), ndg, grad_atol, grad_rtol);
    REQUIRE_CLOSE("batch_norm dbeta", minus(db, offset), ndb, grad_atol, grad_rtol);
  }
}

TEST_CASE("bn_rrelu backward matches central differences, slope gradient included", "[grad][bn_rrelu]") {
  Context ctx;
  Rng rng(14);
  for (const bool with_slope : {true, false}) {
    for (const ChannelShape s : {ChannelShape{5, 6, 12}, ChannelShape{16, 4, 1}, ChannelShape{2, 3, 5}}) {
      INFO((with_slope ? "rrelu" : "relu") << " shape n=" << s.n << " c=" << s.c << " hw=" << s.hw);
      std::vector<double> x, gamma, beta, slope, y(s.numel()), rm(s.c), rv(s.c), mean(s.c), invstd(s.c);
      const std::vector<double> r = random_vector(rng, s.numel());
      const double* sp = nullptr;
      auto loss = [&] {
        cpu::bn_rrelu_forward_train<double>(ctx, s, x.data(), gamma.data(), beta.data(), sp, rm.data(), rv.data(), 0.1,
                                            1e-5, y.data(), mean.data(), invstd.data());
        return dot(y, r);
      };
      // Draw until no normalised value sits near the ReLU kink, where the
      // central difference would straddle it.
      for (int attempt = 0;; ++attempt) {
        REQUIRE(attempt < 100);
        x = random_vector(rng, s.numel(), -2, 2);
        gamma = random_away_from_zero(rng, s.c, 0.5, 1.5);  // negative gamma flips the kink side: test it
        beta = random_vector(rng, s.c, -0.5, 0.5);
        slope = random_away_from_zero(rng, s.c, 0.3, 1.5);
        sp = with_slope ? slope.data() : nullptr;
        loss();
        double nearest = 1e9;
        for (int64_t i = 0; i < s.numel(); ++i) {
          const int64_t c = (i / s.hw) % s.c;
          nearest = std::min(nearest, std::fabs(gamma[c] * (x[i] - mean[c]) * invstd[c] + beta[c]));
        }
        if (nearest > 1e-3) break;
      }
      const auto ndx = numeric_grad(x, loss, 1e-6), ndg = numeric_grad(gamma, loss), ndb = numeric_grad(beta, loss);
      const auto nds = numeric_grad(slope, loss);
      loss();
      check_input_grad("bn_rrelu dx", x.size(), ndx, [&](double* dx, GradMode mode) {
        cpu::bn_rrelu_backward<double>(ctx, s, x.data(), r.data(), gamma.data(), beta.data(), sp, mean.data(),
                                       invstd.data(), dx, mode, nullptr, nullptr, nullptr);
      });
      std::vector<double> dg(s.c, offset), db(s.c, offset), ds(s.c, offset);
      cpu::bn_rrelu_backward<double>(ctx, s, x.data(), r.data(), gamma.data(), beta.data(), sp, mean.data(),
                                     invstd.data(), nullptr, GradMode::assign, dg.data(), db.data(),
                                     with_slope ? ds.data() : nullptr);
      REQUIRE_CLOSE("bn_rrelu dgamma", minus(dg, offset), ndg, grad_atol, grad_rtol);
      REQUIRE_CLOSE("bn_rrelu dbeta", minus(db, offset), ndb, grad_atol, grad_rtol);
      if (with_slope) {
        REQUIRE_CLOSE("bn_rrelu dslope", minus(ds, offset), nds, grad_atol, grad_rtol);
      } else {
        for (double g : nds) REQUIRE(g == 0.0);  // no slope in the ReLU form: nothing depends on it
      }
    }
  }
}

TEST_CASE("bn_add_act backward matches central differences: dx, the residual's dr, dgamma, dbeta, dslope",
          "[grad][bn_add_act]") {
  Context ctx;
  Rng rng(19);
  for (const bool with_slope : {true, false}) {
    for (const ChannelShape s : {ChannelShape{5, 6, 12}, ChannelShape{16, 4, 1}, ChannelShape{2, 3, 5}}) {
      INFO((with_slope ? "rrelu" : "relu") << " shape n=" << s.n << " c=" << s.c << " hw=" << s.hw);
      std::vector<double> x, res, gamma, beta, slope, y(s.numel()), rm(s.c), rv(s.c), mean(s.c), invstd(s.c);
      const std::vector<double> r = random_vector(rng, s.numel());
      const double* sp = nullptr;
      auto loss = [&] {
        cpu::bn_add_act_forward_train<double>(ctx, s, x.data(), res.data(), gamma.data(), beta.data(), sp, rm.data(),
                                              rv.data(), 0.1, 1e-5, y.data(), mean.data(), invstd.data());
        return dot(y, r);
      };
      // Draw until no sum BN(x) + residual sits near the kink, where the
      // central difference would straddle it.
      for (int attempt = 0;; ++attempt) {
        REQUIRE(attempt < 100);
        x = random_vector(rng, s.numel(), -2, 2);
        res = random_vector(rng, s.numel(), -1, 1);
        gamma = random_away_from_zero(rng, s.c, 0.5, 1.5);
        beta = random_vector(rng, s.c, -0.5, 0.5);
        slope = random_away_from_zero(rng, s.c, 0.3, 1.5);
        sp = with_slope ? slope.data() : nullptr;
        loss();
        double nearest = 1e9;
        for (int64_t i = 0; i < s.numel(); ++i) {
          const int64_t c = (i / s.hw) % s.c;
          nearest = std::min(nearest, std::fabs(gamma[c] * (x[i] - mean[c]) * invstd[c] + beta[c] + res[i]));
        }
        if (nearest > 1e-3) break;
      }
      const auto ndx = numeric_grad(x, loss, 1e-6), ndr = numeric_grad(res, loss), ndg = numeric_grad(gamma, loss),
                 ndb = numeric_grad(beta, loss), nds = numeric_grad(slope, loss);
      loss();
      check_input_grad("bn_add_act dx", x.size(), ndx, [&](double* dx, GradMode mode) {
        cpu::bn_add_act_backward<double>(ctx, s, x.data(), res.data(), r.data(), gamma.data(), beta.data(), sp,
                                         mean.data(), invstd.data(), dx, mode, nullptr, GradMode::assign, nullptr,
                                         nullptr, nullptr);
      });
      check_input_grad("bn_add_act dr", res.size(), ndr, [&](double* dr, GradMode mode) {
        cpu::bn_add_act_backward<double>(ctx, s, x.data(), res.data(), r.data(), gamma.data(), beta.data(), sp,
                                         mean.data(), invstd.data(), nullptr, GradMode::assign, dr, mode, nullptr,
                                         nullptr, nullptr);
      });
      std::vector<double> dg(s.c, offset), db(s.c, offset), ds(s.c, offset);
      cpu::bn_add_act_backward<double>(ctx, s, x.data(), res.data(), r.data(), gamma.data(), beta.data(), sp,
                                       mean.data(), invstd.data(), nullptr, GradMode::assign, nullptr,
                                       GradMode::assign, dg.data(), db.data(), with_slope ? ds.data() : nullptr);
      REQUIRE_CLOSE("bn_add_act dgamma", minus(dg, offset), ndg, grad_atol, grad_rtol);
      REQUIRE_CLOSE("bn_add_act dbeta", minus(db, offset), ndb, grad_atol, grad_rtol);
      if (with_slope) {
        REQUIRE_CLOSE("bn_add_act dslope", minus(ds, offset), nds, grad_atol, grad_rtol);
      } else {
        for (double g : nds) REQUIRE(g == 0.0);
      }
    }
  }
}

TEST_CASE("relu and rrelu backward match central differences", "[grad][activation]") {
  Context ctx;
  Rng rng(15);
  const ChannelShape s{3, 4, 10};
  std::vector<double> x = random_away_from_zero(rng, s.numel()), slope = random_away_from_zero(rng, s.c, 0.2, 1.5);
  const std::vector<double> r = random_vector(rng, s.numel());
  std::vector<double> y(s.numel());
  auto relu_loss = [&] {
    cpu::relu_forward<double>(ctx, s.numel(), x.data(), y.data());
    return dot(y, r);
  };
  check_input_grad("relu dx", x.size(), numeric_grad(x, relu_loss), [&](double* dx, GradMode mode) {
    cpu::relu_backward<double>(ctx, s.numel(), x.data(), r.data(), dx, mode);
  });
  auto rrelu_loss = [&] {
    cpu::rrelu_forward<double>(ctx, s, x.data(), slope.data(), y.data());
    return dot(y, r);
  };
  const auto ndx = numeric_grad(x, rrelu_loss), nds = numeric_grad(slope, rrelu_loss);
  check_input_grad("rrelu dx", x.size(), ndx, [&](double* dx, GradMode mode) {
    cpu::rrelu_backward<double>(ctx, s, x.data(), r.data(), slope.data(), dx, mode, nullptr);
  });
  std::vector<double> ds(s.c, offset);
  cpu::rrelu_backward<double>(ctx, s, x.data(), r.data(), slope.data(), nullptr, GradMode::assign, ds.data());
  REQUIRE_CLOSE("rrelu dslope", minus(ds, offset), nds, grad_atol, grad_rtol);
}

TEST_CASE("pooling, shortcut and dropout backward match central differences", "[grad][pool][shortcut][dropout]") {
  Context ctx;
  Rng rng(16);
  {
    const ChannelShape s{3, 5, 7};
    std::vector<double> x = random_vector(rng, s.numel()), y(s.n * s.c);
    const std::vector<double> r = random_vector(rng, y.size());
    auto loss = [&] {
      cpu::global_avg_pool_forward<double>(ctx, s, x.data(), y.data());
      return dot(y, r);
    };
    check_input_grad("global_avg_pool dx", x.size(), numeric_grad(x, loss), [&](double* dx, GradMode mode) {
      cpu::global_avg_pool_backward<double>(ctx, s, r.data(), dx, mode);
    });
  }
  for (const ShortcutShape s : {ShortcutShape{2, 4, 6, 6, 8, 2}, ShortcutShape{1, 3, 5, 7, 6, 2}}) {
    std::vector<double> x = random_vector(rng, s.n * s.c_in * s.h * s.w), y(s.n * s.c_out * s.h_out() * s.w_out());
    const std::vector<double> r = random_vector(rng, y.size());
    auto loss = [&] {
      cpu::shortcut_a_forward<double>(ctx, s, x.data(), y.data());
      return dot(y, r);
    };
    check_input_grad("shortcut_a dx", x.size(), numeric_grad(x, loss), [&](double* dx, GradMode mode) {
      cpu::shortcut_a_backward<double>(ctx, s, r.data(), dx, mode);
    });
  }
  {
    const int64_t n = 200;
    std::vector<double> x = random_vector(rng, n), y(n);
    const std::vector<double> r = random_vector(rng, n);
    auto loss = [&] {
      cpu::dropout_forward<double>(ctx, n, x.data(), 0.3, 99, y.data());
      return dot(y, r);
    };
    check_input_grad("dropout dx", x.size(), numeric_grad(x, loss), [&](double* dx, GradMode mode) {
      cpu::dropout_backward<double>(ctx, n, r.data(), 0.3, 99, dx, mode);
    });
    int64_t dropped = 0;
    for (double v : y) dropped += v == 0;
    CHECK(dropped > n / 10);
    CHECK(dropped < n / 2);
  }
}

TEST_CASE("softmax cross-entropy backward matches central differences", "[grad][softmax_ce]") {
  Context ctx;
  Rng rng(17);
  const int64_t n = 6, k = 10;
  std::vector<double> logits = random_vector(rng, n * k, -3, 3);
  const std::vector<int32_t> labels = {0, 9, 3, 3, 7, 1};
  double loss_value = 0;
  auto loss = [&] {
    cpu::softmax_cross_entropy_forward<double>(ctx, n, k, logits.data(), labels.data(), &loss_value);
    return 0.7 * loss_value;
  };
  const auto nd = numeric_grad(logits, loss);
  const double dloss = 0.7;
  check_input_grad("softmax_ce dlogits", logits.size(), nd, [&](double* d, GradMode mode) {
    cpu::softmax_cross_entropy_backward<double>(ctx, n, k, logits.data(), labels.data(), &dloss, d, mode);
  });
}

TEST_CASE("channel gather and add-into backward match central differences", "[grad][channel_select]") {
  Context ctx;
  Rng rng(18);
  const ChannelSubset s{3, 7, 5, 3};
  const std::vector<int32_t> index = {5, 0, 3};
  {
    std::vector<double> x = random_vector(rng, s.n * s.c * s.hw), y(s.n * s.k * s.hw);
    const std::vector<double> r = random_vector(rng, y.size());
    auto loss = [&] {
      cpu::channel_gather<double>(ctx, s, x.data(), index.data(), y.data());
      return dot(y, r);
    };
    check_input_grad("channel_gather dx", x.size(), numeric_grad(x, loss), [&](double* dx, GradMode mode) {
      cpu::channel_gather_backward<double>(ctx, s, r.data(), index.data(), dx, mode);
    });
  }
  {
    std::vector<double> base = random_vector(rng, s.n * s.c * s.hw), part = random_vector(rng, s.n * s.k * s.hw),
                        y(base.size());
    const std::vector<double> r = random_vector(rng, y.size());
    auto loss = [&] {
      cpu::channel_add_into<double>(ctx, s, base.data(), part.data(), index.data(), y.data());
      return dot(y, r);
    };
    REQUIRE_CLOSE("add_into dbase", numeric_grad(base, loss), r, grad_atol, grad_rtol);
    // d part = r gathered at the index: the gather's forward.
    std::vector<double> expected(part.size());
    cpu::channel_gather<double>(ctx, s, r.data(), index.data(), expected.data());
    REQUIRE_CLOSE("add_into dpart", numeric_grad(part, loss), expected, grad_atol, grad_rtol);
  }
}
