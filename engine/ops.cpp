#include "engine/ops.h"

#include "engine/context.h"
#include "engine/tensor_util.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/bn_add_act.h"
#include "kernels/bn_rrelu.h"
#include "kernels/channel_select.h"
#include "kernels/conv2d.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "kernels/nonfinite.h"
#include "kernels/pool.h"
#include "kernels/shortcut.h"
#include "kernels/softmax_ce.h"

// Calls cuda::fn on a CUDA context and cpu::fn<float> otherwise.
#if ROTOR_HAVE_CUDA
#define ROTOR_DISPATCH(ctx, fn, ...) \
  ((ctx).on_cuda() ? ::rotor::cuda::fn(__VA_ARGS__) : ::rotor::cpu::fn<float>(__VA_ARGS__))
#else
#define ROTOR_DISPATCH(ctx, fn, ...) ::rotor::cpu::fn<float>(__VA_ARGS__)
#endif
// A callable (ctx, args...) that ROTOR_DISPATCHes fn(ctx, args...).
#define ROTOR_DISPATCHER(fn) [](Context& ctx, auto... args) { ROTOR_DISPATCH(ctx, fn, ctx, args...); }

namespace rotor {
namespace {

float* ptr(const Var& v) { return v ? v->value.f32() : nullptr; }

void check_input(Graph& g, const Var& v, const char* op, const char* what) {
  ROTOR_CHECK(v && v->value.defined(), "{}: {} is missing", op, what);
  ROTOR_CHECK(v->value.dtype() == DType::f32, "{}: {} must be float32, got {}", op, what,
              dtype_name(v->value.dtype()));
  ROTOR_CHECK(v->value.device() == g.ctx().device(), "{}: {} is on {} but the graph runs on {}", op, what,
              device_name(v->value.device()), device_name(g.ctx().device()));
  ROTOR_CHECK(v->value.is_contiguous(), "{}: {} of shape {} must be contiguous", op, what,
              shape_str(v->value.shape()));
}

void check_vector(Graph& g, const Var& v, int64_t n, const char* op, const char* what) {
  check_input(g, v, op, what);
  ROTOR_CHECK(v->value.rank() == 1 && v->value.size(0) == n, "{}: {} must have shape ({}), got {}", op, what, n,
              shape_str(v->value.shape()));
}

void check_buffer(const Tensor& t, int64_t n, const char* op, const char* what) {
  ROTOR_CHECK(t.defined() && t.rank() == 1 && t.size(0) == n && t.dtype() == DType::f32,
              "{}: {} must be a float32 tensor of shape ({})", op, what, n);
}

ChannelShape channel_shape(const Tensor& x, const char* op) {
  ROTOR_CHECK(x.rank() == 2 || x.rank() == 4, "{}: input must be (N, C) or (N, C, H, W), got {}", op,
              shape_str(x.shape()));
  return {x.size(0), x.size(1), x.rank() == 4 ? x.size(2) * x.size(3) : 1};
}

Var output(Graph& g, const Shape& shape, bool requires_grad) {
  return make_var(Tensor::empty(g.ctx(), shape), requires_grad);
}

// Gradient target of a parameter-like input (weights, gamma, slope): those
// kernels always accumulate, so a target that would be assigned is zeroed.
GradTarget param_target(Graph& g, const Var& v) {
  GradTarget t = g.grad_target(v);
  if (t.data && t.mode == GradMode::assign) {
    fill(g.ctx(), v->grad, 0.0f);
    t.mode = GradMode::accumulate;
  }
  return t;
}

// A parameter-free elementwise op y = f(x): forward(ctx, n, x, y) and
// backward(ctx, n, x, dy, dx, mode) are ROTOR_DISPATCHERs of the kernels.
template <class Forward, class Backward>
Var elementwise_op(Graph& g, const Var& x, const char* op, Forward forward, Backward backward) {
  check_input(g, x, op, "input");
  const int64_t n = x->value.numel();
  Var y = output(g, x->value.shape(), g.needs_grad({&x}));
  forward(g.ctx(), n, ptr(x), ptr(y));
  if (y->requires_grad)
    g.record([&g, x, y, n, backward] {
      if (!y->grad.defined()) return;
      const GradTarget dx = g.grad_target(x);
      if (dx.data) backward(g.ctx(), n, ptr(x), y->grad.f32(), dx.data, dx.mode);
    });
  return y;
}

}  // namespace

Var linear(Graph& g, const Var& x, const Var& w, const Var& bias) {
  check_input(g, x, "linear", "input");
  check_input(g, w, "linear", "weight");
  ROTOR_CHECK(x->value.rank() == 2 && w->value.rank() == 2 && x->value.size(1) == w->value.size(1),
              "linear: input {} does not fit weight {} (expected (N, in) and (out, in))",
              shape_str(x->value.shape()), shape_str(w->value.shape()));
  const LinearShape s{x->value.size(0), w->value.size(1), w->value.size(0)};
  if (bias) check_vector(g, bias, s.out, "linear", "bias");
  Var y = output(g, {s.n, s.out}, g.needs_grad({&x, &w, &bias}));
  Context& ctx = g.ctx();
  ROTOR_DISPATCH(ctx, linear_forward, ctx, s, ptr(x), ptr(w), ptr(bias), ptr(y));
  if (y->requires_grad)
    g.record([&g, x, w, bias, y, s] {
      if (!y->grad.defined()) return;
      Context& ctx = g.ctx();
      const float* dy = y->grad.f32();
      const GradTarget dx = g.grad_target(x);
      if (dx.data) ROTOR_DISPATCH(ctx, linear_backward_data, ctx, s, dy, ptr(w), dx.data, dx.mode);
      const GradTarget dw = param_target(g, w), db = param_target(g, bias);
      if (dw.data || db.data) ROTOR_DISPATCH(ctx, linear_backward_weight, ctx, s, ptr(x), dy, dw.data, db.data);
    });
  return y;
}

Var conv2d(Graph& g, const Var& x, const Var& w, int64_t stride, int64_t pad) {
  check_input(g, x, "conv2d", "input");
  check_input(g, w, "conv2d", "weight");
  const Shape& xs = x->value.shape();
  const Shape& ws = w->value.shape();
  ROTOR_CHECK(xs.size() == 4 && ws.size() == 4 && xs[1] == ws[1],
              "conv2d: input {} does not fit weight {} (expected (N, C_in, H, W) and (C_out, C_in, K, K))",
              shape_str(xs), shape_str(ws));
  ROTOR_CHECK(stride >= 1 && pad >= 0, "conv2d: stride {} and padding {} are invalid", stride, pad);
  const ConvShape s{xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], stride, pad};
  ROTOR_CHECK(s.h_out() >= 1 && s.w_out() >= 1, "conv2d: input {} is smaller than the {}x{} kernel",
              shape_str(xs), ws[2], ws[3]);
  Var y = output(g, {s.n, s.c_out, s.h_out(), s.w_out()}, g.needs_grad({&x, &w}));
  Context& ctx = g.ctx();
  ROTOR_DISPATCH(ctx, conv2d_forward, ctx, s, ptr(x), ptr(w), ptr(y));
  if (y->requires_grad)
    g.record([&g, x, w, y, s] {
      if (!y->grad.defined()) return;
      Context& ctx = g.ctx();
      const float* dy = y->grad.f32();
      const GradTarget dx = g.grad_target(x);
      if (dx.data) ROTOR_DISPATCH(ctx, conv2d_backward_data, ctx, s, dy, ptr(w), dx.data, dx.mode);
      const GradTarget dw = param_target(g, w);
      if (dw.data) ROTOR_DISPATCH(ctx, conv2d_backward_weight, ctx, s, ptr(x), dy, dw.data);
    });
  return y;
}

// The per-channel operands of a batch norm (and of its fused forms): C
// values each; the slope is optional (a ReLU or no activation).
static void check_bn_params(Graph& g, int64_t c, const Var& gamma, const Var& beta, const Var& slope,
                            const Tensor& running_mean, const Tensor& running_var, const char* op) {
  check_vector(g, gamma, c, op, "gamma");
  check_vector(g, beta, c, op, "beta");
  if (slope) check_vector(g, slope, c, op, "slope");
  check_buffer(running_mean, c, op, "running_mean");
  check_buffer(running_var, c, op, "running_var");
}

// Shared by batch_norm and bn_rrelu: checks, then the train or eval forward.
static Var bn_forward(Graph& g, const Var& x, const Var& gamma, const Var& beta, const Var& slope,
                      Tensor& running_mean, Tensor& running_var, const BatchNormConfig& config, bool act,
                      const char* op) {
  check_input(g, x, op, "input");
  const ChannelShape s = channel_shape(x->value, op);
  check_bn_params(g, s.c, gamma, beta, slope, running_mean, running_var, op);
  Context& ctx = g.ctx();
  Var y = output(g, x->value.shape(), g.needs_grad({&x, &gamma, &beta, &slope}));
  if (!g.training()) {
    if (act)
      ROTOR_DISPATCH(ctx, bn_rrelu_forward_eval, ctx, s, ptr(x), ptr(gamma), ptr(beta), ptr(slope),
                     running_mean.f32(), running_var.f32(), config.eps, ptr(y));
    else
      ROTOR_DISPATCH(ctx, batch_norm_forward_eval, ctx, s, ptr(x), ptr(gamma), ptr(beta), running_mean.f32(),
                     running_var.f32(), config.eps, ptr(y));
    return y;
  }
  ROTOR_CHECK(s.per_channel() > 1, "{}: training needs more than one value per channel, got input {}", op,
              shape_str(x->value.shape()));
  Tensor save_mean = Tensor::empty(ctx, {s.c}), save_invstd = Tensor::empty(ctx, {s.c});
  if (act)
    ROTOR_DISPATCH(ctx, bn_rrelu_forward_train, ctx, s, ptr(x), ptr(gamma), ptr(beta), ptr(slope),
                   running_mean.f32(), running_var.f32(), config.momentum, config.eps, ptr(y), save_mean.f32(),
                   save_invstd.f32());
  else
    ROTOR_DISPATCH(ctx, batch_norm_forward_train, ctx, s, ptr(x), ptr(gamma), ptr(beta), running_mean.f32(),
                   running_var.f32(), config.momentum, config.eps, ptr(y), save_mean.f32(), save_invstd.f32());
  if (y->requires_grad)
    g.record([&g, x, gamma, beta, slope, y, s, save_mean, save_invstd, act] {
      if (!y->grad.defined()) return;
      Context& ctx = g.ctx();
      const GradTarget dx = g.grad_target(x);
      const GradTarget dgamma = param_target(g, gamma), dbeta = param_target(g, beta);
      if (act) {
        const GradTarget dslope = param_target(g, slope);
        ROTOR_DISPATCH(ctx, bn_rrelu_backward, ctx, s, ptr(x), y->grad.f32(), ptr(gamma), ptr(beta), ptr(slope),
                       save_mean.f32(), save_invstd.f32(), dx.data, dx.mode, dgamma.data, dbeta.data,
                       dslope.data);
      } else {
        ROTOR_DISPATCH(ctx, batch_norm_backward, ctx, s, ptr(x), y->grad.f32(), ptr(gamma), save_mean.f32(),
                       save_invstd.f32(), dx.data, dx.mode, dgamma.data, dbeta.data);
      }
    });
  return y;
}

Var batch_norm(Graph& g, const Var& x, const Var& gamma, const Var& beta, Tensor& running_mean,
               Tensor& running_var, const BatchNormConfig& config) {
  return bn_forward(g, x, gamma, beta, nullptr, running_mean, running_var, config, false, "batch_norm");
}

Var bn_rrelu(Graph& g, const Var& x, const Var& gamma, const Var& beta, const Var& slope, Tensor& running_mean,
             Tensor& running_var, const BatchNormConfig& config) {
  return bn_forward(g, x, gamma, beta, slope, running_mean, running_var, config, true, "bn_rrelu");
}

Var bn_add_act(Graph& g, const Var& x, const Var& residual, const Var& gamma, const Var& beta, const Var& slope,
               Tensor& running_mean, Tensor& running_var, const BatchNormConfig& config) {
  const char* op = "bn_add_act";
  check_input(g, x, op, "input");
  check_input(g, residual, op, "residual");
  const ChannelShape s = channel_shape(x->value, op);
  ROTOR_CHECK(residual->value.same_shape(x->value), "{}: residual {} does not match input {}", op,
              shape_str(residual->value.shape()), shape_str(x->value.shape()));
  check_bn_params(g, s.c, gamma, beta, slope, running_mean, running_var, op);
  Context& ctx = g.ctx();
  Var y = output(g, x->value.shape(), g.needs_grad({&x, &residual, &gamma, &beta, &slope}));
  if (!g.training()) {
    ROTOR_DISPATCH(ctx, bn_add_act_forward_eval, ctx, s, ptr(x), ptr(residual), ptr(gamma), ptr(beta), ptr(slope),
                   running_mean.f32(), running_var.f32(), config.eps, ptr(y));
    return y;
  }
  ROTOR_CHECK(s.per_channel() > 1, "{}: training needs more than one value per channel, got input {}", op,
              shape_str(x->value.shape()));
  Tensor save_mean = Tensor::empty(ctx, {s.c}), save_invstd = Tensor::empty(ctx, {s.c});
  ROTOR_DISPATCH(ctx, bn_add_act_forward_train, ctx, s, ptr(x), ptr(residual), ptr(gamma), ptr(beta), ptr(slope),
                 running_mean.f32(), running_var.f32(), config.momentum, config.eps, ptr(y), save_mean.f32(),
                 save_invstd.f32());
  if (y->requires_grad)
    g.record([&g, x, residual, gamma, beta, slope, y, s, save_mean, save_invstd] {
      if (!y->grad.defined()) return;
      Context& ctx = g.ctx();
      // The residual's gradient goes straight into its target (assigned by
      // its first writer, added by later ones): no copy through an add.
      const GradTarget dr = g.grad_target(residual), dx = g.grad_target(x);
      const GradTarget dgamma = param_target(g, gamma), dbeta = param_target(g, beta), dslope = param_target(g, slope);
      ROTOR_DISPATCH(ctx, bn_add_act_backward, ctx, s, ptr(x), ptr(residual), y->grad.f32(), ptr(gamma), ptr(beta),
                     ptr(slope), save_mean.f32(), save_invstd.f32(), dx.data, dx.mode, dr.data, dr.mode, dgamma.data,
                     dbeta.data, dslope.data);
    });
  return y;
}

Var relu(Graph& g, const Var& x) {
  return elementwise_op(g, x, "relu", ROTOR_DISPATCHER(relu_forward), ROTOR_DISPATCHER(relu_backward));
}

Var rrelu(Graph& g, const Var& x, const Var& slope) {
  check_input(g, x, "rrelu", "input");
  const ChannelShape s = channel_shape(x->value, "rrelu");
  check_vector(g, slope, s.c, "rrelu", "slope");
  Var y = output(g, x->value.shape(), g.needs_grad({&x, &slope}));
  Context& ctx = g.ctx();
  ROTOR_DISPATCH(ctx, rrelu_forward, ctx, s, ptr(x), ptr(slope), ptr(y));
  if (y->requires_grad)
    g.record([&g, x, slope, y, s] {
      if (!y->grad.defined()) return;
      Context& ctx = g.ctx();
      const GradTarget dx = g.grad_target(x);
      const GradTarget dslope = param_target(g, slope);
      ROTOR_DISPATCH(ctx, rrelu_backward, ctx, s, ptr(x), y->grad.f32(), ptr(slope), dx.data, dx.mode,
                     dslope.data);
    });
  return y;
}

Var add(Graph& g, const Var& a, const Var& b) {
  check_input(g, a, "add", "first input");
  check_input(g, b, "add", "second input");
  ROTOR_CHECK(a->value.same_shape(b->value), "add: shapes {} and {} differ", shape_str(a->value.shape()),
              shape_str(b->value.shape()));
  const int64_t n = a->value.numel();
  Var y = output(g, a->value.shape(), g.needs_grad({&a, &b}));
  Context& ctx = g.ctx();
  ROTOR_DISPATCH(ctx, add_forward, ctx, n, ptr(a), ptr(b), ptr(y));
  if (y->requires_grad)
    g.record([&g, a, b, y, n] {
      if (!y->grad.defined()) return;
      Context& ctx = g.ctx();
      for (const Var* input : {&a, &b}) {
        const GradTarget d = g.grad_target(*input);
        if (d.data) ROTOR_DISPATCH(ctx, copy_grad, ctx, n, y->grad.f32(), d.data, d.mode);
      }
    });
  return y;
}

Var shortcut_a(Graph& g, const Var& x, int64_t c_out, int64_t stride) {
  check_input(g, x, "shortcut_a", "input");
  const Shape& xs = x->value.shape();
  ROTOR_CHECK(xs.size() == 4, "shortcut_a: input must be (N, C, H, W), got {}", shape_str(xs));
  ROTOR_CHECK(c_out >= xs[1] && stride >= 1, "shortcut_a: cannot map {} channels to {} with stride {}", xs[1],
              c_out, stride);
  const ShortcutShape s{xs[0], xs[1], xs[2], xs[3], c_out, stride};
  Var y = output(g, {s.n, s.c_out, s.h_out(), s.w_out()}, g.needs_grad({&x}));
  Context& ctx = g.ctx();
  ROTOR_DISPATCH(ctx, shortcut_a_forward, ctx, s, ptr(x), ptr(y));
  if (y->requires_grad)
    g.record([&g, x, y, s] {
      if (!y->grad.defined()) return;
      Context& ctx = g.ctx();
      const GradTarget dx = g.grad_target(x);
      if (dx.data) ROTOR_DISPATCH(ctx, shortcut_a_backward, ctx, s, y->grad.f32(), dx.data, dx.mode);
    });
  return y;
}

Var dropout(Graph& g, const Var& x, double p) {
  check_input(g, x, "dropout", "input");
  ROTOR_CHECK(p >= 0 && p < 1, "dropout: probability {} is not in [0, 1)", p);
  if (!g.training() || p == 0) return x;
  const int64_t n = x->value.numel();
  Var y = output(g, x->value.shape(), g.needs_grad({&x}));
  Context& ctx = g.ctx();
#if ROTOR_HAVE_CUDA
  if (const uint64_t* step_seed_dev = g.step_seed_dev()) {
    // A captured graph step: the kernels read the step's seed on the device.
    ROTOR_CHECK(ctx.on_cuda(), "dropout: a device step seed needs a CUDA context");
    const uint64_t use = g.next_use();
    cuda::dropout_forward_step_seed(ctx, n, ptr(x), p, step_seed_dev, use, ptr(y));
    if (y->requires_grad)
      g.record([&g, x, y, n, p, step_seed_dev, use] {
        if (!y->grad.defined()) return;
        const GradTarget dx = g.grad_target(x);
        if (dx.data)
          cuda::dropout_backward_step_seed(g.ctx(), n, y->grad.f32(), p, step_seed_dev, use, dx.data, dx.mode);
      });
    return y;
  }
#endif
  ROTOR_CHECK(!g.step_seed_dev(), "dropout: a device step seed needs a CUDA build");
  const uint64_t seed = g.next_seed();
  ROTOR_DISPATCH(ctx, dropout_forward, ctx, n, ptr(x), p, seed, ptr(y));
  if (y->requires_grad)
    g.record([&g, x, y, n, p, seed] {
      if (!y->grad.defined()) return;
      Context& ctx = g.ctx();
      const GradTarget dx = g.grad_target(x);
      if (dx.data) ROTOR_DISPATCH(ctx, dropout_backward, ctx, n, y->grad.f32(), p, seed, dx.data, dx.mode);
    });
  return y;
}

static ChannelSubset channel_subset(Graph& g, const Tensor& x, const Tensor& index, const char* op) {
  ROTOR_CHECK(x.rank() == 4, "{}: input must be (N, C, H, W), got {}", op, shape_str(x.shape()));
  ROTOR_CHECK(index.dtype() == DType::i32 && index.rank() == 1 && index.device() == g.ctx().device(),
              "{}: the channel index must be int32 (K) on {}", op, device_name(g.ctx().device()));
  const ChannelSubset s{x.size(0), x.size(1), x.size(2) * x.size(3), index.size(0)};
  ROTOR_CHECK(s.k <= s.c, "{}: {} channels selected from {}", op, s.k, s.c);
  return s;
}

Var select_channels(Graph& g, const Var& x, const Tensor& index) {
  check_input(g, x, "select_channels", "input");
  const ChannelSubset s = channel_subset(g, x->value, index, "select_channels");
  Var y = output(g, {s.n, s.k, x->value.size(2), x->value.size(3)}, g.needs_grad({&x}));
  Context& ctx = g.ctx();
  ROTOR_DISPATCH(ctx, channel_gather, ctx, s, ptr(x), index.data<int32_t>(), ptr(y));
  if (y->requires_grad)
    g.record([&g, x, y, s, index] {
      if (!y->grad.defined()) return;
      Context& ctx = g.ctx();
      const GradTarget dx = g.grad_target(x);
      if (dx.data)
        ROTOR_DISPATCH(ctx, channel_gather_backward, ctx, s, y->grad.f32(), index.data<int32_t>(), dx.data, dx.mode);
    });
  return y;
}

Var add_into_channels(Graph& g, const Var& base, const Var& part, const Tensor& index) {
  check_input(g, base, "add_into_channels", "base");
  check_input(g, part, "add_into_channels", "part");
  const ChannelSubset s = channel_subset(g, base->value, index, "add_into_channels");
  const Shape& bs = base->value.shape();
  ROTOR_CHECK(part->value.shape() == Shape({bs[0], s.k, bs[2], bs[3]}),
              "add_into_channels: part {} does not fit base {} with {} channels", shape_str(part->value.shape()),
              shape_str(bs), s.k);
  Var y = output(g, bs, g.needs_grad({&base, &part}));
  Context& ctx = g.ctx();
  ROTOR_DISPATCH(ctx, channel_add_into, ctx, s, ptr(base), ptr(part), index.data<int32_t>(), ptr(y));
  if (y->requires_grad)
    g.record([&g, base, part, y, s, index] {
      if (!y->grad.defined()) return;
      Context& ctx = g.ctx();
      const GradTarget db = g.grad_target(base);
      if (db.data) ROTOR_DISPATCH(ctx, copy_grad, ctx, base->value.numel(), y->grad.f32(), db.data, db.mode);
      const GradTarget dp = g.grad_target(part);
      if (!dp.data) return;
      if (dp.mode == GradMode::assign) {
        ROTOR_DISPATCH(ctx, channel_gather, ctx, s, y->grad.f32(), index.data<int32_t>(), dp.data);
      } else {
        Tensor tmp = Tensor::empty(ctx, part->value.shape());
        ROTOR_DISPATCH(ctx, channel_gather, ctx, s, y->grad.f32(), index.data<int32_t>(), tmp.f32());
        ROTOR_DISPATCH(ctx, copy_grad, ctx, tmp.numel(), tmp.f32(), dp.data, GradMode::accumulate);
      }
    });
  return y;
}

Var global_avg_pool(Graph& g, const Var& x) {
  check_input(g, x, "global_avg_pool", "input");
  ROTOR_CHECK(x->value.rank() == 4, "global_avg_pool: input must be (N, C, H, W), got {}",
              shape_str(x->value.shape()));
  const ChannelShape s = channel_shape(x->value, "global_avg_pool");
  Var y = output(g, {s.n, s.c}, g.needs_grad({&x}));
  Context& ctx = g.ctx();
  ROTOR_DISPATCH(ctx, global_avg_pool_forward, ctx, s, ptr(x), ptr(y));
  if (y->requires_grad)
    g.record([&g, x, y, s] {
      if (!y->grad.defined()) return;
      Context& ctx = g.ctx();
      const GradTarget dx = g.grad_target(x);
      if (dx.data) ROTOR_DISPATCH(ctx, global_avg_pool_backward, ctx, s, y->grad.f32(), dx.data, dx.mode);
    });
  return y;
}

Var flatten(Graph& g, const Var& x) {
  check_input(g, x, "flatten", "input");
  ROTOR_CHECK(x->value.rank() >= 1, "flatten: input has no batch dimension");
  Var y = make_var(x->value.view({x->value.size(0), -1}), g.needs_grad({&x}));
  if (y->requires_grad)
    g.record([&g, x, y] {
      if (!y->grad.defined()) return;
      const GradTarget dx = g.grad_target(x);
      Context& ctx = g.ctx();
      if (dx.data) ROTOR_DISPATCH(ctx, copy_grad, ctx, x->value.numel(), y->grad.f32(), dx.data, dx.mode);
    });
  return y;
}

static void check_labels(Graph& g, const Tensor& labels, int64_t n, const char* op) {
  ROTOR_CHECK(labels.defined() && labels.dtype() == DType::i32 && labels.rank() == 1 && labels.size(0) == n,
              "{}: labels must be int32 of shape ({})", op, n);
  ROTOR_CHECK(labels.device() == g.ctx().device(), "{}: labels are on {} but the graph runs on {}", op,
              device_name(labels.device()), device_name(g.ctx().device()));
}

Var softmax_cross_entropy(Graph& g, const Var& logits, const Tensor& labels) {
  check_input(g, logits, "softmax_cross_entropy", "logits");
  ROTOR_CHECK(logits->value.rank() == 2, "softmax_cross_entropy: logits must be (N, K), got {}",
              shape_str(logits->value.shape()));
  const int64_t n = logits->value.size(0), k = logits->value.size(1);
  check_labels(g, labels, n, "softmax_cross_entropy");
  Var loss = output(g, {1}, g.needs_grad({&logits}));
  Context& ctx = g.ctx();
  ROTOR_DISPATCH(ctx, softmax_cross_entropy_forward, ctx, n, k, ptr(logits), labels.data<int32_t>(), ptr(loss));
  if (loss->requires_grad)
    g.record([&g, logits, labels, loss, n, k] {
      if (!loss->grad.defined()) return;
      Context& ctx = g.ctx();
      const GradTarget d = g.grad_target(logits);
      if (d.data)
        ROTOR_DISPATCH(ctx, softmax_cross_entropy_backward, ctx, n, k, ptr(logits), labels.data<int32_t>(),
                       loss->grad.f32(), d.data, d.mode);
    });
  return loss;
}

void assemble_batch(Context& ctx, const Tensor& images, const Tensor& labels, const Tensor& indices,
                    const AugmentSpec& spec, Tensor& x, Tensor& y) {
  const int64_t b = indices.numel();
  ROTOR_CHECK(images.dtype() == DType::u8 && images.rank() == 4 && labels.dtype() == DType::i32 &&
                  indices.dtype() == DType::i32,
              "assemble_batch: expected uint8 images (N, C, H, W), int32 labels and int32 indices");
  ROTOR_CHECK(images.size(1) == spec.c && images.size(2) == spec.h && images.size(3) == spec.w &&
                  spec.c <= AugmentSpec::max_channels,
              "assemble_batch: images {} do not match the augmentation's {}x{}x{}", shape_str(images.shape()), spec.c,
              spec.h, spec.w);
  ROTOR_CHECK(x.shape() == Shape({b, spec.c, spec.h, spec.w}) && y.shape() == Shape({b}) && y.dtype() == DType::i32,
              "assemble_batch: outputs {} and {} do not fit a batch of {}", shape_str(x.shape()),
              shape_str(y.shape()), b);
#if ROTOR_HAVE_CUDA
  if (ctx.on_cuda())
    return cuda::gather_batch(ctx, images.data<uint8_t>(), labels.data<int32_t>(), indices.data<int32_t>(), b, spec,
                              x.f32(), y.data<int32_t>());
#endif
  cpu::gather_batch(ctx, images.data<uint8_t>(), labels.data<int32_t>(), indices.data<int32_t>(), b, spec, x.f32(),
                    y.data<int32_t>());
}

void axpy(Context& ctx, float alpha, const Tensor& x, Tensor& y) {
  ROTOR_CHECK(x.numel() == y.numel(), "axpy: {} and {} elements", x.numel(), y.numel());
  ROTOR_DISPATCH(ctx, axpy, ctx, x.numel(), alpha, x.f32(), y.f32());
}

void count_correct(Context& ctx, const Tensor& logits, const Tensor& labels, Tensor& counter) {
  ROTOR_CHECK(logits.rank() == 2 && labels.rank() == 1 && labels.size(0) == logits.size(0),
              "count_correct: logits {} and labels {} do not match", shape_str(logits.shape()),
              shape_str(labels.shape()));
  ROTOR_CHECK(counter.dtype() == DType::i64 && counter.numel() == 1, "count_correct: counter must be one int64");
  ROTOR_DISPATCH(ctx, count_correct, ctx, logits.size(0), logits.size(1), logits.f32(), labels.data<int32_t>(),
                 counter.data<int64_t>());
}

void count_nonfinite(Context& ctx, const Tensor& x, Tensor& counter) {
  ROTOR_CHECK(x.dtype() == DType::f32 && x.is_contiguous(), "count_nonfinite: x must be contiguous float32, got {} {}",
              dtype_name(x.dtype()), shape_str(x.shape()));
  ROTOR_CHECK(counter.dtype() == DType::i64 && counter.numel() == 1, "count_nonfinite: counter must be one int64");
  ROTOR_DISPATCH(ctx, count_nonfinite, ctx, x.numel(), x.f32(), counter.data<int64_t>());
}

int64_t count_nonfinite(Context& ctx, const Tensor& x) {
  Tensor counter = Tensor::host({1}, DType::i64);
  counter.data<int64_t>()[0] = 0;
  counter = to_device(ctx, counter, ctx.device());
  count_nonfinite(ctx, x, counter);
  return to_host(ctx, counter).data<int64_t>()[0];
}

}  // namespace rotor
