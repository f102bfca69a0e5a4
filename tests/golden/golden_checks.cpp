#include "tests/golden/golden_checks.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/tensor_util.h"
#include "models/resnet.h"
#include "tests/support/tolerance.h"

namespace rotor::test {

std::string golden_dir() {
  if (const char* env = std::getenv("ROTOR_GOLDEN_DIR")) return env;
  return ROTOR_GOLDEN_DIR;
}

bool golden_available() {
  struct stat st;
  return ::stat((golden_dir() + "/index.json").c_str(), &st) == 0;
}

NpyArray golden(const std::string& case_name, const std::string& tensor) {
  return read_npy(golden_dir() + "/" + case_name + "/" + tensor + ".npy");
}

namespace {

Shape shape_of(const NpyArray& a) { return Shape(a.shape.begin(), a.shape.end()); }

Tensor tensor_of(Context& ctx, const NpyArray& a) { return from_host(ctx, shape_of(a), a.as_float()); }

Var var_of(Context& ctx, const NpyArray& a, bool requires_grad = true) {
  return make_var(tensor_of(ctx, a), requires_grad);
}

Tensor labels_of(Context& ctx, const NpyArray& a) {
  Tensor host = Tensor::host(shape_of(a), DType::i32);
  const std::vector<int32_t> v = a.as_int32();
  std::copy(v.begin(), v.end(), host.data<int32_t>());
  return to_device(ctx, host, ctx.device());
}

void require_matches(Context& ctx, const std::string& what, const Tensor& got, const NpyArray& ref, double tol) {
  REQUIRE(got.shape() == shape_of(ref));
  REQUIRE_CLOSE(what, host_values(ctx, got), ref.values, tol, tol);
}

// Solves h_out = (h + 2 pad - k) / stride + 1 for the stride, with "same"
// padding (k - 1) / 2 as the reference cases use.
std::pair<int64_t, int64_t> conv_geometry(const NpyArray& x, const NpyArray& w, const NpyArray& y) {
  const int64_t k = w.shape[2], pad = (k - 1) / 2;
  for (int64_t stride = 1; stride <= 4; ++stride)
    if ((x.shape[2] + 2 * pad - k) / stride + 1 == y.shape[2] && (x.shape[3] + 2 * pad - k) / stride + 1 == y.shape[3])
      return {stride, pad};
  FAIL("no stride fits the reference conv shapes");
  return {0, 0};
}

}  // namespace

void check_golden_conv(Context& ctx, const std::string& c) {
  const NpyArray x = golden(c, "x"), w = golden(c, "w"), y = golden(c, "y"), dy = golden(c, "dy");
  const auto [stride, pad] = conv_geometry(x, w, y);
  Graph g(ctx, true);
  Var xv = var_of(ctx, x), wv = var_of(ctx, w);
  Var out = conv2d(g, xv, wv, stride, pad);
  require_matches(ctx, c + " y", out->value, y, golden_op_tol);
  g.backward(out, tensor_of(ctx, dy));
  require_matches(ctx, c + " dx", xv->grad, golden(c, "dx"), golden_op_tol);
  require_matches(ctx, c + " dw", wv->grad, golden(c, "dw"), golden_op_tol);
}

void check_golden_batchnorm(Context& ctx, const std::string& c) {
  const NpyArray x = golden(c, "x");
  const int64_t channels = x.shape[1];
  Tensor rm = Tensor::empty(ctx, {channels}), rv = Tensor::empty(ctx, {channels});
  const bool given_running = c == "batchnorm2d_train";  // the 1d case starts from PyTorch's 0 and 1
  if (given_running) {
    rm = tensor_of(ctx, golden(c, "running_mean_in"));
    rv = tensor_of(ctx, golden(c, "running_var_in"));
  } else {
    fill(ctx, rm, 0.0f);
    fill(ctx, rv, 1.0f);
  }
  Graph g(ctx, true);
  Var xv = var_of(ctx, x), gamma = var_of(ctx, golden(c, "gamma")), beta = var_of(ctx, golden(c, "beta"));
  Var y = batch_norm(g, xv, gamma, beta, rm, rv);
  require_matches(ctx, c + " y", y->value, golden(c, "y"), golden_op_tol);
  require_matches(ctx, c + " running_mean", rm, golden(c, "running_mean_out"), golden_op_tol);
  require_matches(ctx, c + " running_var", rv, golden(c, "running_var_out"), golden_op_tol);
  g.backward(y, tensor_of(ctx, golden(c, "dy")));
  require_matches(ctx, c + " dx", xv->grad, golden(c, "dx"), golden_op_tol);
  require_matches(ctx, c + " dgamma", gamma->grad, golden(c, "dgamma"), golden_op_tol);
  require_matches(ctx, c + " dbeta", beta->grad, golden(c, "dbeta"), golden_op_tol);
  if (given_running) {
    Graph eval(ctx, false);
    Var ye = batch_norm(eval, xv, gamma, beta, rm, rv);
    require_matches(ctx, c + " y_eval", ye->value, golden(c, "y_eval"), golden_op_tol);
  }
}

void check_golden_bn_rrelu(Context& ctx) {
  const std::string c = "bn_rrelu_train";
  const NpyArray x = golden(c, "x");
  Tensor rm = Tensor::empty(ctx, {x.shape[1]}), rv = Tensor::empty(ctx, {x.shape[1]});
  fill(ctx, rm, 0.0f);
  fill(ctx, rv, 1.0f);
  Graph g(ctx, true);
  Var xv = var_of(ctx, x), gamma = var_of(ctx, golden(c, "gamma")), beta = var_of(ctx, golden(c, "beta")),
      slope = var_of(ctx, golden(c, "b"));
  Var y = bn_rrelu(g, xv, gamma, beta, slope, rm, rv);
  require_matches(ctx, c + " y", y->value, golden(c, "y"), golden_op_tol);
  require_matches(ctx, c + " running_mean", rm, golden(c, "running_mean_out"), golden_op_tol);
  require_matches(ctx, c + " running_var", rv, golden(c, "running_var_out"), golden_op_tol);
  g.backward(y, tensor_of(ctx, golden(c, "dy")));
  require_matches(ctx, c + " dx", xv->grad, golden(c, "dx"), golden_op_tol);
  require_matches(ctx, c + " dgamma", gamma->grad, golden(c, "dgamma"), golden_op_tol);
  require_matches(ctx, c + " dbeta", beta->grad, golden(c, "dbeta"), golden_op_tol);
  require_matches(ctx, c + " dslope", slope->grad, golden(c, "db"), golden_op_tol);
}

void check_golden_rrelu(Context& ctx) {
  const std::string c = "rrelu";
  Graph g(ctx, true);
  Var x = var_of(ctx, golden(c, "x")), b = var_of(ctx, golden(c, "b"));
  Var y = rrelu(g, x, b);
  require_matches(ctx, c + " y", y->value, golden(c, "y"), golden_op_tol);
  g.backward(y, tensor_of(ctx, golden(c, "dy")));
  require_matches(ctx, c + " dx", x->grad, golden(c, "dx"), golden_op_tol);
  require_matches(ctx, c + " dslope", b->grad, golden(c, "db"), golden_op_tol);
}

void check_golden_linear(Context& ctx) {
  const std::string c = "linear";
  Graph g(ctx, true);
  Var x = var_of(ctx, golden(c, "x")), w = var_of(ctx, golden(c, "w")), b = var_of(ctx, golden(c, "bias"));
  Var y = linear(g, x, w, b);
  require_matches(ctx, c + " y", y->value, golden(c, "y"), golden_op_tol);
  g.backward(y, tensor_of(ctx, golden(c, "dy")));
  require_matches(ctx, c + " dx", x->grad, golden(c, "dx"), golden_op_tol);
  require_matches(ctx, c + " dw", w->grad, golden(c, "dw"), golden_op_tol);
  require_matches(ctx, c + " dbias", b->grad, golden(c, "dbias"), golden_op_tol);
}

void check_golden_softmax_ce(Context& ctx) {
  const std::string c = "softmax_cross_entropy";
  Graph g(ctx, true);
  Var logits = var_of(ctx, golden(c, "logits"));
  Var loss = softmax_cross_entropy(g, logits, labels_of(ctx, golden(c, "labels")));
  require_matches(ctx, c + " loss", loss->value, golden(c, "loss"), golden_op_tol);
  g.backward(loss);
  require_matches(ctx, c + " dlogits", logits->grad, golden(c, "dlogits"), golden_op_tol);
}

void check_golden_shortcut(Context& ctx) {
  const std::string c = "shortcut_a";
  const NpyArray yref = golden(c, "y");
  Graph g(ctx, true);
  Var x = var_of(ctx, golden(c, "x"));
  Var y = shortcut_a(g, x, yref.shape[1], 2);
  require_matches(ctx, c + " y", y->value, yref, golden_op_tol);
  g.backward(y, tensor_of(ctx, golden(c, "dy")));
  require_matches(ctx, c + " dx", x->grad, golden(c, "dx"), golden_op_tol);
}

void check_golden_pool(Context& ctx) {
  const std::string c = "global_avg_pool";
  Graph g(ctx, true);
  Var x = var_of(ctx, golden(c, "x"));
  Var y = global_avg_pool(g, x);
  require_matches(ctx, c + " y", y->value, golden(c, "y"), golden_op_tol);
  g.backward(y, tensor_of(ctx, golden(c, "dy")));
  require_matches(ctx, c + " dx", x->grad, golden(c, "dx"), golden_op_tol);
}

namespace {

// A module holding one parameter, so the Optimizer can drive it.
class OneParameter : public Module {
 public:
  OneParameter(Context& ctx, Tensor value) : p(add_parameter(ctx, "p", std::move(value), ParamGroup::weights)) {}
  Parameter& p;
};

}  // namespace

void check_golden_optimizer(Context& ctx, const std::string& c) {
  OptimizerConfig config;
  double lr = 0;
  if (c == "optim_sgd_nesterov_wd") {
    config.momentum = 0.9;
    config.nesterov = true;
    config.group(ParamGroup::weights).weight_decay = 5e-4;
    lr = 0.1;
  } else if (c == "optim_sgd_momentum") {
    config.momentum = 0.9;
    config.group(ParamGroup::weights).weight_decay = 1e-4;
    lr = 0.05;
  } else {
    config.kind = OptimizerConfig::Kind::adam;
    lr = 1e-3;
  }
  const NpyArray p0 = golden(c, "param_in"), grads = golden(c, "grads");
  OneParameter m(ctx, tensor_of(ctx, p0));
  Optimizer opt(ctx, m.named_parameters(), config);
  const int64_t n = p0.numel();
  for (int64_t step = 0; step < grads.shape[0]; ++step) {
    const std::vector<float> g(grads.values.begin() + step * n, grads.values.begin() + (step + 1) * n);
    copy(ctx, from_host(ctx, {n}, g), m.p.grad());
    opt.step(lr);
    require_matches(ctx, c + " step " + std::to_string(step + 1), m.p.value(),
                    golden(c, "param_" + std::to_string(step + 1)), golden_op_tol);
  }
}

void check_golden_tiny_resnet(Context& ctx) {
  const std::string c = "tiny_resnet_rrelu";
  const NpyArray x = golden(c, "x"), logits_ref = golden(c, "logits");
  const NpyArray stem = golden(c, "stem_w"), b2 = golden(c, "b2_conv1_w");
  ModelSpec spec;
  spec.arch = "tiny-resnet";
  spec.in_channels = x.shape[1];
  spec.height = x.shape[2];
  spec.width = x.shape[3];
  spec.classes = logits_ref.shape[1];
  ResNetConfig config{stem.shape[0], {{golden(c, "b1_conv1_w").shape[0], 1, 1}, {b2.shape[0], 1, 2}}};
  ResNet net(ctx, spec, config);
  const std::vector<std::pair<std::string, std::string>> names = {
      {"stem_w", "stem_conv.weight"},         {"stem_g", "stem_bn.weight"},          {"stem_b", "stem_bn.bias"},
      {"fc_w", "fc.weight"},                  {"fc_b", "fc.bias"}};
  std::vector<std::pair<std::string, std::string>> all = names;
  for (const std::string block : {"1", "2"}) {
    const std::string ours = "stage" + block + ".block0.";
    const std::string ref = "b" + block + "_";
    for (const auto& [r, o] : std::vector<std::pair<std::string, std::string>>{
             {"conv1_w", "conv1.weight"}, {"bn1_g", "bn1.weight"}, {"bn1_b", "bn1.bias"}, {"slope1", "bn1.slope"},
             {"conv2_w", "conv2.weight"}, {"bn2_g", "bn2.weight"}, {"bn2_b", "bn2.bias"}, {"slope2", "act.slope"}})
      all.emplace_back(ref + r, ours + o);
  }
  auto params = net.named_parameters();
  REQUIRE(params.size() == all.size());  // every parameter has its reference
  auto find = [&](const std::string& name) -> Parameter& {
    for (auto& [n, p] : params)
      if (n == name) return *p;
    FAIL("no parameter " << name);
    throw;
  };
  for (const auto& [ref, ours] : all) copy(ctx, tensor_of(ctx, golden(c, ref)), find(ours).value());

  Graph g(ctx, true);
  Var logits = net.forward(g, var_of(ctx, x, false));
  require_matches(ctx, c + " logits", logits->value, logits_ref, golden_net_tol);
  Var loss = softmax_cross_entropy(g, logits, labels_of(ctx, golden(c, "labels")));
  require_matches(ctx, c + " loss", loss->value, golden(c, "loss"), golden_net_tol);
  g.backward(loss);
  for (const auto& [ref, ours] : all) require_matches(ctx, c + " d_" + ref, find(ours).grad(), golden(c, "d_" + ref), golden_net_tol);
}

}  // namespace rotor::test
