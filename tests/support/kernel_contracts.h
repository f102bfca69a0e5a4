// The contracts that kernels/*.h state, checked on either twin: the same
// checks run on the cpu:: kernels (tests/test_kernel_contracts.cpp) and on
// the cuda:: ones (tests/gpu/test_gpu_kernel_contracts.cpp).
//
// The rules of kernels/shapes.h, for every gradient a backward kernel
// writes: `assign` overwrites without reading (the buffer starts as NaN),
// `accumulate` adds to what is there, parameter gradients always add, and
// nullptr means "not wanted" (the kernel must skip it: a write through it
// crashes). Plus what single headers promise: the gradient of ReLU/RReLU at
// x == 0 is 0, gather's backward zeroes the channels nothing was gathered
// from, SGD without momentum needs no buffer.
//
// A Side holds buffers where its kernels run; K names the kernels
// (K::relu_backward is cpu::relu_backward<float> or cuda::relu_backward).
#pragma once

#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "engine/context.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/bn_add_act.h"
#include "kernels/bn_rrelu.h"
#include "kernels/channel_select.h"
#include "kernels/conv2d.h"
#include "kernels/dropout.h"
#include "kernels/linear.h"
#include "kernels/optimizer.h"
#include "kernels/pool.h"
#include "kernels/shortcut.h"
#include "tests/support/tolerance.h"

namespace rotor::test::contracts {

class Side {
 public:
  virtual ~Side() = default;
  virtual Context& ctx() = 0;
  // A buffer on this side holding v, alive as long as the Side.
  virtual float* put(const std::vector<float>& v) = 0;
  virtual int32_t* put_index(const std::vector<int32_t>& v) = 0;
  virtual std::vector<float> get(const float* p, size_t n) = 0;
};

inline std::vector<float> ramp(size_t n, double from, double step) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(from + step * static_cast<double>((i * 7) % 13));
  return v;
}

inline std::vector<float> plus(std::vector<float> a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

inline double scale_of(const std::vector<float>& v) {
  double m = 1e-30;
  for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
  return m;
}

// An input gradient: run(d, mode) runs the backward writing d (the kernel's
// other gradients nullptr). Returns what assign wrote.
inline std::vector<float> check_input_grad(Side& side, const std::string& what, size_t n,
                                           const std::function<void(float*, GradMode)>& run, double tol) {
  auto result = [&](const std::vector<float>& start, GradMode mode) {
    float* d = side.put(start);
    run(d, mode);
    return side.get(d, n);
  };
  const std::vector<float> fresh = result(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()),
                                          GradMode::assign);
  const std::vector<float> zeros(n, 0.0f);
  // NaN anywhere: assign read the old value, or left an element unwritten.
  REQUIRE_CLOSE(what + " (assign over NaN)", fresh, result(zeros, GradMode::assign), 0.0, 0.0);
  const std::vector<float> start = ramp(n, -1.5, 0.25);
  REQUIRE_CLOSE(what + " (accumulate)", result(start, GradMode::accumulate), plus(start, fresh), tol * scale_of(fresh),
                tol);
  run(nullptr, GradMode::assign);  // not wanted: skipped
  run(nullptr, GradMode::accumulate);
  return fresh;
}

// A parameter gradient: run(d) runs the backward writing d (the others
// nullptr); it must add to d. Returns what it added to zeros.
inline std::vector<float> check_param_grad(Side& side, const std::string& what, size_t n,
                                           const std::function<void(float*)>& run, double tol) {
  auto result = [&](const std::vector<float>& start) {
    float* d = side.put(start);
    run(d);
    return side.get(d, n);
  };
  const std::vector<float> fresh = result(std::vector<float>(n, 0.0f));
  CHECK(scale_of(fresh) > 1e-6);  // a gradient that is all zeros would prove nothing
  const std::vector<float> start = ramp(n, 0.5, -0.125);
  REQUIRE_CLOSE(what + " (accumulates)", result(start), plus(start, fresh), tol * scale_of(fresh), tol);
  run(nullptr);  // not wanted: skipped
  return fresh;
}

template <class K>
void check_activation(Side& side, double tol) {
  Context& ctx = side.ctx();
  const ChannelShape s{3, 5, 7};
  const size_t n = static_cast<size_t>(s.numel());
  std::vector<float> xv = ramp(n, -1.0, 0.25);  // holds exact zeros
  const float *x = side.put(xv), *dy = side.put(ramp(n, 0.75, -0.125)), *slope = side.put(ramp(5, -2, 0.5));
  const float zero = 0.0f;
  auto grad_at_zero_is_zero = [&](const std::string& what, const std::vector<float>& dx) {
    for (size_t i = 0; i < n; ++i)
      if (xv[i] == 0.0f) REQUIRE_CLOSE(what + " at x == 0", &dx[i], &zero, 1, 0.0, 0.0);
  };
  const auto relu_dx = check_input_grad(
      side, "relu_backward dx", n,
      [&](float* d, GradMode m) { K::relu_backward(ctx, s.numel(), x, dy, d, m); }, tol);
  grad_at_zero_is_zero("relu dx", relu_dx);
  const auto rrelu_dx = check_input_grad(
      side, "rrelu_backward dx", n,
      [&](float* d, GradMode m) { K::rrelu_backward(ctx, s, x, dy, slope, d, m, nullptr); }, tol);
  grad_at_zero_is_zero("rrelu dx", rrelu_dx);
  check_param_grad(
      side, "rrelu_backward dslope", 5,
      [&](float* d) { K::rrelu_backward(ctx, s, x, dy, slope, nullptr, GradMode::assign, d); }, tol);
}

template <class K>
void check_batch_norm(Side& side, double tol) {
  Context& ctx = side.ctx();
  const ChannelShape s{3, 4, 5};
  const size_t n = static_cast<size_t>(s.numel()), c = 4;
  const float *x = side.put(ramp(n, -1, 0.2)), *dy = side.put(ramp(n, 0.5, -0.1));
  const float *gamma = side.put(ramp(c, 0.5, 0.3)), *beta = side.put(ramp(c, -0.2, 0.1));
  const float *slope = side.put(ramp(c, -1, 0.4)), *mean = side.put(ramp(c, 0.1, 0.05));
  const float* invstd = side.put(ramp(c, 0.8, 0.1));
  check_input_grad(
      side, "batch_norm_backward dx", n,
      [&](float* d, GradMode m) { K::batch_norm_backward(ctx, s, x, dy, gamma, mean, invstd, d, m, nullptr, nullptr); },
      tol);
  check_param_grad(
      side, "batch_norm_backward dgamma", c,
      [&](float* d) { K::batch_norm_backward(ctx, s, x, dy, gamma, mean, invstd, nullptr, GradMode::assign, d, nullptr); },
      tol);
  check_param_grad(
      side, "batch_norm_backward dbeta", c,
      [&](float* d) { K::batch_norm_backward(ctx, s, x, dy, gamma, mean, invstd, nullptr, GradMode::assign, nullptr, d); },
      tol);
  for (const float* b : {slope, static_cast<const float*>(nullptr)}) {  // RReLU, and ReLU (no slope)
    const std::string name = b ? "bn_rrelu_backward" : "bn_rrelu_backward (no slope)";
    check_input_grad(
        side, name + " dx", n,
        [&](float* d, GradMode m) {
          K::bn_rrelu_backward(ctx, s, x, dy, gamma, beta, b, mean, invstd, d, m, nullptr, nullptr, nullptr);
        },
        tol);
    check_param_grad(
        side, name + " dgamma", c,
        [&](float* d) {
          K::bn_rrelu_backward(ctx, s, x, dy, gamma, beta, b, mean, invstd, nullptr, GradMode::assign, d, nullptr,
                               nullptr);
        },
        tol);
    check_param_grad(
        side, name + " dbeta", c,
        [&](float* d) {
          K::bn_rrelu_backward(ctx, s, x, dy, gamma, beta, b, mean, invstd, nullptr, GradMode::assign, nullptr, d,
                               nullptr);
        },
        tol);
  }
  check_param_grad(
      side, "bn_rrelu_backward dslope", c,
      [&](float* d) {
        K::bn_rrelu_backward(ctx, s, x, dy, gamma, beta, slope, mean, invstd, nullptr, GradMode::assign, nullptr,
                             nullptr, d);
      },
      tol);
}

// bn_add_act.h: dx and the residual's dr are input gradients (each in its
// own GradMode), dgamma, dbeta and dslope parameter gradients.
template <class K>
void check_bn_add_act(Side& side, double tol) {
  Context& ctx = side.ctx();
  const ChannelShape s{3, 4, 5};
  const size_t n = static_cast<size_t>(s.numel()), c = 4;
  const float *x = side.put(ramp(n, -1, 0.2)), *r = side.put(ramp(n, 0.3, -0.05)), *dy = side.put(ramp(n, 0.5, -0.1));
  const float *gamma = side.put(ramp(c, 0.5, 0.3)), *beta = side.put(ramp(c, -0.2, 0.1));
  const float *slope = side.put(ramp(c, -1, 0.4)), *mean = side.put(ramp(c, 0.1, 0.05));
  const float* invstd = side.put(ramp(c, 0.8, 0.1));
  const GradMode a = GradMode::assign;
  for (const float* b : {slope, static_cast<const float*>(nullptr)}) {  // RReLU, and ReLU (no slope)
    const std::string name = b ? "bn_add_act_backward" : "bn_add_act_backward (no slope)";
    check_input_grad(
        side, name + " dx", n,
        [&](float* d, GradMode m) {
          K::bn_add_act_backward(ctx, s, x, r, dy, gamma, beta, b, mean, invstd, d, m, nullptr, a, nullptr, nullptr,
                                 nullptr);
        },
        tol);
    check_input_grad(
        side, name + " dr", n,
        [&](float* d, GradMode m) {
          K::bn_add_act_backward(ctx, s, x, r, dy, gamma, beta, b, mean, invstd, nullptr, a, d, m, nullptr, nullptr,
                                 nullptr);
        },
        tol);
    check_param_grad(
        side, name + " dgamma", c,
        [&](float* d) {
          K::bn_add_act_backward(ctx, s, x, r, dy, gamma, beta, b, mean, invstd, nullptr, a, nullptr, a, d, nullptr,
                                 nullptr);
        },
        tol);
    check_param_grad(
        side, name + " dbeta", c,
        [&](float* d) {
          K::bn_add_act_backward(ctx, s, x, r, dy, gamma, beta, b, mean, invstd, nullptr, a, nullptr, a, nullptr, d,
                                 nullptr);
        },
        tol);
  }
  check_param_grad(
      side, "bn_add_act_backward dslope", c,
      [&](float* d) {
        K::bn_add_act_backward(ctx, s, x, r, dy, gamma, beta, slope, mean, invstd, nullptr, a, nullptr, a, nullptr,
                               nullptr, d);
      },
      tol);
}

template <class K>
void check_layers(Side& side, double tol) {
  Context& ctx = side.ctx();
  {
    const ConvShape s{2, 3, 5, 5, 4, 3, 3, 2, 1};
    const float *dy = side.put(ramp(s.y_numel(), -0.5, 0.1)), *w = side.put(ramp(s.w_numel(), 0.3, -0.05));
    const float* x = side.put(ramp(s.x_numel(), 0.2, 0.15));
    check_input_grad(
        side, "conv2d_backward_data dx", s.x_numel(),
        [&](float* d, GradMode m) { K::conv2d_backward_data(ctx, s, dy, w, d, m); }, tol);
    check_param_grad(
        side, "conv2d_backward_weight dw", s.w_numel(), [&](float* d) { K::conv2d_backward_weight(ctx, s, x, dy, d); },
        tol);
  }
  {
    const LinearShape s{3, 5, 4};
    const float *x = side.put(ramp(15, -1, 0.2)), *w = side.put(ramp(20, 0.4, -0.1)), *dy = side.put(ramp(12, 1, -0.2));
    check_input_grad(
        side, "linear_backward_data dx", 15,
        [&](float* d, GradMode m) { K::linear_backward_data(ctx, s, dy, w, d, m); }, tol);
    check_param_grad(
        side, "linear_backward_weight dw", 20, [&](float* d) { K::linear_backward_weight(ctx, s, x, dy, d, nullptr); },
        tol);
    check_param_grad(
        side, "linear_backward_weight dbias", 4,
        [&](float* d) { K::linear_backward_weight(ctx, s, x, dy, nullptr, d); }, tol);
  }
  {
    const ChannelShape s{2, 3, 7};
    const float* dy = side.put(ramp(6, -1, 0.3));
    check_input_grad(
        side, "global_avg_pool_backward dx", s.numel(),
        [&](float* d, GradMode m) { K::global_avg_pool_backward(ctx, s, dy, d, m); }, tol);
  }
  {
    const ShortcutShape s{2, 3, 5, 5, 8, 2};
    const float* dy = side.put(ramp(2 * 8 * 3 * 3, -1, 0.2));
    check_input_grad(
        side, "shortcut_a_backward dx", 2 * 3 * 5 * 5,
        [&](float* d, GradMode m) { K::shortcut_a_backward(ctx, s, dy, d, m); }, tol);
  }
  {
    const ChannelSubset s{2, 5, 3, 3};
    const int32_t* index = side.put_index({4, 0, 2});
    const float* dy = side.put(ramp(2 * 3 * 3, 0.5, -0.1));
    const float zeros[3] = {0, 0, 0};
    const auto dx = check_input_grad(
        side, "channel_gather_backward dx", 2 * 5 * 3,
        [&](float* d, GradMode m) { K::channel_gather_backward(ctx, s, dy, index, d, m); }, tol);
    for (int64_t img = 0; img < 2; ++img)
      for (int64_t ch : {1, 3})  // gathered from nowhere: zeroed
        REQUIRE_CLOSE("channel_gather_backward: channel nothing was gathered from", &dx[(img * 5 + ch) * 3], zeros,
                      3, 0.0, 0.0);
  }
  {
    const int64_t n = 37;
    const float* dy = side.put(ramp(n, -1, 0.2));
    check_input_grad(
        side, "dropout_backward dx", n,
        [&](float* d, GradMode m) { K::dropout_backward(ctx, n, dy, 0.3, 42, d, m); }, tol);
  }
}

// SGD with momentum 0 uses no buffer: state1 may be nullptr.
template <class K>
void check_sgd_without_buffer(Side& side) {
  const std::vector<float> p0 = ramp(9, -1, 0.3), g = ramp(9, 0.5, -0.2);
  float* p = side.put(p0);
  const ParamSlot<float> slot{p, side.put(g), nullptr, nullptr, 9};
  SgdHyper h;
  h.lr = 0.5;
  h.weight_decay = 0.25;
  K::sgd_update(side.ctx(), &slot, 1, h);
  std::vector<float> expected(9);
  for (size_t i = 0; i < 9; ++i) expected[i] = p0[i] - 0.5f * (g[i] + 0.25f * p0[i]);
  REQUIRE_CLOSE("sgd_update without momentum buffer", side.get(p, 9), expected, 1e-6, 1e-6);
}

}  // namespace rotor::test::contracts
