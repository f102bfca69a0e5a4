// bench_cuda: times rotor's CUDA kernels against the device's own measured
// ceilings, and the trainer's whole step.
//
//   bench_cuda <kernel> [variant] [--json FILE] [--repeats N]
//                   (variant: its number, or the name some have: conv2d_fwd tf32, conv2d_fwd fp16)
//   bench_cuda train_step [variant] [--model resnet20|resnet56] [--batch 128] [--act relu|rrelu]
//                   [--precision fp32|tf32|fp16]   (the convolutions' precision, as rotor train's)
//   bench_cuda memory [--model wrn-40-4] [--batch 128] [--precision ...]   (peak GPU memory of a step)
//   bench_cuda all --json results.json      (every variant of every kernel)
//   bench_cuda --list                       (the table of kernels and variants)
//
// One table (kernel_table() below) lists every kernel and its variants; an
// unknown kernel or variant is an error that lists the known ones. Variant 0
// is always the SHIPPED kernel, called through the same cuda:: function the
// engine calls (nothing is copied here, as in llm.c's dev/cuda); other
// variants are alternatives kept for comparison.
//
// Kernels that report a fraction of the roofline first measure the two
// ceilings on this device (a 512 MiB device-to-device copy, counting bytes
// read + written; a 8192^3 cuBLAS SGEMM in plain FP32), then: validate
// against the CPU twin (norm-wise relative error printed; exit 1 on a
// mismatch), warm up, and time >= 20 calls with CUDA events, rotating the
// inputs among enough buffer sets to exceed twice the L2 cache. They print
// the median and minimum in microseconds, GB/s (the minimum traffic: each
// input read once, each output written once) or TFLOP/s, and the fraction of
// the roofline.
//
// train_step times apps/trainer.h's train_step (forward, softmax
// cross-entropy, backward, SGD Nesterov update) on one fixed batch of
// random CIFAR-shaped images (3x32x32, 10 classes; random values: the time
// does not depend on them), after checking its first two losses against
// the CPU engine. It prints one line in the format bench/pytorch_step.py
// prints, so a script can divide the two (see print_step_line). Variant 1
// (mode=graph) times the engine's CUDA graph step (apps/graph_step.h, what
// `rotor train --cuda-graph on` replays), after checking that its losses
// equal the eager step's; `train_step` without a variant runs both. Exit status: 0, 1 (a failure), 2 (a bad
// argument), 77 (no usable GPU).
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/graph_step.h"
#include "apps/trainer.h"
#include "bench/cuda/bench_variants.h"
#include "engine/context.h"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_state.h"
#include "engine/init.h"
#include "engine/json.h"
#include "engine/memory_footprint.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/tensor_util.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/bn_add_act.h"
#include "kernels/bn_rrelu.h"
#include "kernels/elementwise.h"
#include "kernels/conv2d.h"
#include "kernels/gemm.h"
#include "kernels/softmax_ce.h"
#include "models/model.h"

namespace rotor::bench {
namespace {

struct Result {
  std::string kernel;
  int variant = 0;
  std::string label;  // shape or variant description
  double median_us = 0, min_us = 0;
  double bytes = 0;     // minimum traffic per call
  double flops = 0;     // per call
  double rel_err = -1;  // vs the CPU twin; -1: not validated
  bool memory_bound = true;
  double images_per_s = 0;  // train_step only
  std::string note;
};

Result make_result(const std::string& kernel, int variant, const std::string& label) {
  Result r;
  r.kernel = kernel;
  r.variant = variant;
  r.label = label;
  return r;
}

struct Timing {
  double median_us = 0, min_us = 0;
};

class Bench {
 public:
  explicit Bench(int repeats) : ctx_(cuda_options()), repeats_(std::max(20, repeats)), prop_(ctx_.cuda().prop) {
    const cudaDeviceProp& p = prop_;
    l2_bytes_ = static_cast<size_t>(p.l2CacheSize);
    std::printf("device: %s (sm_%d%d, %d SMs, L2 %.0f MB)\n", p.name, p.major, p.minor, p.multiProcessorCount,
                l2_bytes_ / 1e6);
  }

  Context& ctx() { return ctx_; }
  std::string device_name() const { return prop_.name; }
  cudaStream_t stream() { return ctx_.cuda().stream; }
  int repeats() const { return repeats_; }
  double copy_gbps = 0, sgemm_tflops = 0;
  std::vector<Result> results;

  // Buffer sets of `bytes_per_set` needed to exceed twice the L2 cache.
  int sets_for(double bytes_per_set) const {
    return std::clamp(static_cast<int>(std::ceil(2.0 * l2_bytes_ / bytes_per_set)) + 1, 2, 64);
  }

  // Times call(set) `repeats` times (sets rotating) after `warmup` calls.
  Timing time(int sets, const std::function<void(int)>& call, int warmup = 3, int repeats = -1) {
    if (repeats < 0) repeats = repeats_;
    for (int i = 0; i < warmup; ++i) call(i % sets);
    std::vector<cudaEvent_t> ev(2 * repeats);
    for (auto& e : ev) ROTOR_CUDA_CHECK(cudaEventCreate(&e));
    for (int r = 0; r < repeats; ++r) {
      ROTOR_CUDA_CHECK(cudaEventRecord(ev[2 * r], stream()));
      call(r % sets);
      ROTOR_CUDA_CHECK(cudaEventRecord(ev[2 * r + 1], stream()));
    }
    ROTOR_CUDA_CHECK(cudaStreamSynchronize(stream()));
    std::vector<double> us(repeats);
    for (int r = 0; r < repeats; ++r) {
      float ms = 0;
      ROTOR_CUDA_CHECK(cudaEventElapsedTime(&ms, ev[2 * r], ev[2 * r + 1]));
      us[r] = 1e3 * ms;
    }
    for (auto& e : ev) ROTOR_CUDA_CHECK(cudaEventDestroy(e));
    std::sort(us.begin(), us.end());
    return {us[us.size() / 2], us.front()};
  }

  void add(Result r, const Timing& t) {
    r.median_us = t.median_us;
    r.min_us = t.min_us;
    print(r);
    results.push_back(std::move(r));
  }

  double fraction(const Result& r) const {
    const double s = r.median_us * 1e-6;
    if (r.memory_bound) return copy_gbps > 0 ? r.bytes / s / 1e9 / copy_gbps : 0;
    return sgemm_tflops > 0 ? r.flops / s / 1e12 / sgemm_tflops : 0;
  }

  void print(const Result& r) const {
    const double s = r.median_us * 1e-6;
    char rate[64];
    if (r.memory_bound)
      std::snprintf(rate, sizeof rate, "%8.1f GB/s ", r.bytes / s / 1e9);
    else
      std::snprintf(rate, sizeof rate, "%7.2f TFLOP/s", r.flops / s / 1e12);
    std::printf("%-18s v%d  %-34s %10.1f us (min %9.1f)  %s  %5.1f%% of %s  rel.err %s %s\n", r.kernel.c_str(),
                r.variant, r.label.c_str(), r.median_us, r.min_us, rate, 100 * fraction(r),
                r.memory_bound ? "copy" : "sgemm", r.rel_err < 0 ? "-" : fmt_err(r.rel_err).c_str(), r.note.c_str());
    std::fflush(stdout);
  }

  Json to_json() const {
    const cudaDeviceProp& p = prop_;
    Json j = Json::object();
    j.set("device", std::string(p.name));
    j.set("sm", std::to_string(p.major) + "." + std::to_string(p.minor));
    j.set("l2_bytes", static_cast<int64_t>(l2_bytes_));
    Json roof = Json::object();
    roof.set("copy_gbps", copy_gbps);
    roof.set("sgemm_tflops", sgemm_tflops);
    j.set("roofline", roof);
    Json list = Json::array();
    for (const Result& r : results) {
      Json e = Json::object();
      e.set("kernel", r.kernel);
      e.set("variant", r.variant);
      e.set("label", r.label);
      e.set("median_us", r.median_us);
      e.set("min_us", r.min_us);
      e.set("bytes", r.bytes);
      e.set("flops", r.flops);
      e.set("gbps", r.bytes / (r.median_us * 1e-6) / 1e9);
      e.set("tflops", r.flops / (r.median_us * 1e-6) / 1e12);
      e.set("bound", r.memory_bound ? "memory" : "compute");
      e.set("roofline_fraction", fraction(r));
      e.set("rel_err", r.rel_err);
      if (r.images_per_s > 0) e.set("images_per_s", r.images_per_s);
      if (!r.note.empty()) e.set("note", r.note);
      list.push(e);
    }
    j.set("results", list);
    return j;
  }

  static std::string fmt_err(double e) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1e", e);
    return b;
  }

 private:
  static ContextOptions cuda_options() {
    ContextOptions o;
    o.device = Device::cuda;
    o.seed = 1;
    o.precision = Precision::fp32;  // the kernel variants that want TF32 ask for it (run_conv)
    return o;
  }
  Context ctx_;
  int repeats_;
  cudaDeviceProp prop_;
  size_t l2_bytes_ = 0;
};

// ---- helpers ----------------------------------------------------------------

std::vector<float> random_values(Rng& rng, size_t n, double lo = -1, double hi = 1) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(lo + (hi - lo) * rng.uniform());
  return v;
}

Tensor device_tensor(Context& ctx, const std::vector<float>& v) {
  return from_host(ctx, {static_cast<int64_t>(v.size())}, v);
}

// ||got - ref|| / ||ref||
double rel_error(const std::vector<float>& got, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = static_cast<double>(got[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  if (std::isnan(num)) return INFINITY;
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// Exits when a validation fails: timing a wrong kernel is worthless.
void require_valid(const std::string& what, double err, double tol) {
  if (err <= tol) return;
  std::fprintf(stderr, "VALIDATION FAILED: %s: relative error %.3e > %.1e\n", what.c_str(), err, tol);
  std::exit(1);
}

// The per-channel tensors of a batch-norm benchmark on the device: the
// parameters (from the host values), the running statistics, the batch
// statistics and the parameter gradients.
struct ChannelParamsDev {
  Tensor gamma, beta, slope, running_mean, running_var, mean, invstd, dgamma, dbeta, dslope;
  ChannelParamsDev(Context& ctx, const std::vector<float>& gamma_host, const std::vector<float>& beta_host,
                   const std::vector<float>& slope_host) {
    const int64_t c = static_cast<int64_t>(gamma_host.size());
    gamma = device_tensor(ctx, gamma_host);
    beta = device_tensor(ctx, beta_host);
    slope = device_tensor(ctx, slope_host);
    for (Tensor* t : {&running_mean, &running_var, &mean, &invstd, &dgamma, &dbeta, &dslope})
      *t = Tensor::empty(ctx, {c});
  }
  // Before a validated call: fresh running statistics, zero gradients (they accumulate).
  void reset(Context& ctx) {
    fill(ctx, running_mean, 0.0f);
    fill(ctx, running_var, 1.0f);
    fill(ctx, dgamma, 0.0f);
    fill(ctx, dbeta, 0.0f);
    fill(ctx, dslope, 0.0f);
  }
};

// ---- ceilings ---------------------------------------------------------------

void run_copy(Bench& b) {
  const size_t n = size_t(128) << 20;  // 128 Mi floats = 512 MiB per buffer
  Tensor src = Tensor::empty(b.ctx(), {static_cast<int64_t>(n)}),
         dst = Tensor::empty(b.ctx(), {static_cast<int64_t>(n)});
  fill(b.ctx(), src, 1.5f);
  const Timing t = b.time(1, [&](int) {
    ROTOR_CUDA_CHECK(cudaMemcpyAsync(dst.raw(), src.raw(), n * 4, cudaMemcpyDeviceToDevice, b.stream()));
  });
  Result r = make_result("copy", 0, "512 MiB device-to-device");
  r.bytes = 2.0 * n * 4;
  b.copy_gbps = r.bytes / (t.median_us * 1e-6) / 1e9;
  float probe = 0;
  copy_bytes(b.ctx(), &probe, Device::cpu, static_cast<float*>(dst.raw()) + n - 1, Device::cuda, 4);
  r.rel_err = std::fabs(probe - 1.5f);
  require_valid("copy", r.rel_err, 0);
  b.add(r, t);
}

void run_sgemm(Bench& b) {
  cublasHandle_t h = b.ctx().cuda().cublas;
  const float one = 1.0f, zero = 0.0f;
  {  // validate cuBLAS FP32 on a small product against the CPU GEMM
    const int m = 256, n = 192, k = 320;
    Rng rng(5);
    const auto a = random_values(rng, size_t(m) * k), bm = random_values(rng, size_t(k) * n);
    std::vector<float> ref(size_t(m) * n);
    cpu::gemm<float>(b.ctx(), false, false, m, n, k, 1.0f, a.data(), k, bm.data(), n, 0.0f, ref.data(), n);
    Tensor a_dev = device_tensor(b.ctx(), a), b_dev = device_tensor(b.ctx(), bm),
           c_dev = Tensor::empty(b.ctx(), {m * n});
    // row-major C = A B  <=>  column-major C^T = B^T A^T
    ROTOR_CUBLAS_CHECK(
        cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, b_dev.f32(), n, a_dev.f32(), k, &zero, c_dev.f32(), n));
    require_valid("sgemm 256x192x320", rel_error(host_values(b.ctx(), c_dev), ref), 1e-5);
  }
  const int n = 8192;
  Rng rng(6);
  Tensor a = device_tensor(b.ctx(), random_values(rng, size_t(n) * n)),
         bm = device_tensor(b.ctx(), random_values(rng, size_t(n) * n)), c = Tensor::empty(b.ctx(), {int64_t(n) * n});
  const Timing t = b.time(
      1,
      [&](int) {
        ROTOR_CUBLAS_CHECK(
            cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a.f32(), n, bm.f32(), n, &zero, c.f32(), n));
      },
      2, 10);
  Result r = make_result("sgemm", 0, "cuBLAS 8192^3 FP32");
  r.flops = 2.0 * n * double(n) * n;
  r.memory_bound = false;
  b.sgemm_tflops = r.flops / (t.median_us * 1e-6) / 1e12;
  b.add(r, t);
}

// ---- bn_rrelu / batch_norm ----------------------------------------------------

// Forward (train) + backward of batch norm, fused with the activation or not.
void run_bn(Bench& b, bool act, int variant) {
  const ChannelShape s{128, 16, 1024};
  const size_t n = s.numel(), c = s.c;
  Context& ctx = b.ctx();
  Rng rng(7);
  auto x = random_values(rng, n, -2, 2);
  const auto gamma = random_values(rng, c, 0.5, 1.5), beta = random_values(rng, c, -0.5, 0.5),
             slope = random_values(rng, c, 0.5, 1.5), dy = random_values(rng, n);

  // CPU reference; x is first moved off the activation's kink, where float
  // and double may decide differently (see tests/gpu/test_gpu_channel_ops.cpp).
  std::vector<float> y(n), rm(c, 0.0f), rv(c, 1.0f), mean(c), invstd(c);
  auto cpu_forward = [&] {
    std::fill(rm.begin(), rm.end(), 0.0f);
    std::fill(rv.begin(), rv.end(), 1.0f);
    if (act)
      cpu::bn_rrelu_forward_train<float>(ctx, s, x.data(), gamma.data(), beta.data(), slope.data(), rm.data(),
                                         rv.data(), 0.1, 1e-5, y.data(), mean.data(), invstd.data());
    else
      cpu::batch_norm_forward_train<float>(ctx, s, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), 0.1, 1e-5,
                                           y.data(), mean.data(), invstd.data());
  };
  cpu_forward();
  if (act) {
    for (size_t i = 0; i < n; ++i) {
      const size_t ch = (i / s.hw) % c;
      const double a = double(gamma[ch]) * invstd[ch], z = a * (x[i] - mean[ch]) + beta[ch];
      if (std::fabs(z) < 1e-3) x[i] = static_cast<float>(mean[ch] + ((z < 0 ? -2e-3 : 2e-3) - beta[ch]) / a);
    }
    cpu_forward();
  }
  std::vector<float> dx(n), dgamma(c, 0.0f), dbeta(c, 0.0f), dslope(c, 0.0f);
  if (act)
    cpu::bn_rrelu_backward<float>(ctx, s, x.data(), dy.data(), gamma.data(), beta.data(), slope.data(), mean.data(),
                                  invstd.data(), dx.data(), GradMode::assign, dgamma.data(), dbeta.data(),
                                  dslope.data());
  else
    cpu::batch_norm_backward<float>(ctx, s, x.data(), dy.data(), gamma.data(), mean.data(), invstd.data(), dx.data(),
                                    GradMode::assign, dgamma.data(), dbeta.data());

  // Device buffers, rotated: x, dy, y, dx (and z for the unfused variant).
  const double set_bytes = 4.0 * n * (variant == 1 ? 5 : 4);
  const int sets = b.sets_for(set_bytes);
  struct Set {
    Tensor x, dy, y, dx, z, dz;
  };
  std::vector<Set> bufs;
  for (int i = 0; i < sets; ++i) {
    Set st{device_tensor(ctx, x),
           device_tensor(ctx, dy),
           Tensor::empty(ctx, {int64_t(n)}),
           Tensor::empty(ctx, {int64_t(n)}),
           {},
           {}};
    if (variant == 1) {
      st.z = Tensor::empty(ctx, {int64_t(n)});
      st.dz = Tensor::empty(ctx, {int64_t(n)});
    }
    bufs.push_back(std::move(st));
  }
  ChannelParamsDev p(ctx, gamma, beta, slope);
  auto call = [&](int i) {
    Set& st = bufs[i];
    if (variant == 1) {  // unfused: z = BN(x), y = rrelu(z); dz = rrelu'(dy), dx = BN'(dz)
      cuda::batch_norm_forward_train(ctx, s, st.x.f32(), p.gamma.f32(), p.beta.f32(), p.running_mean.f32(),
                                     p.running_var.f32(), 0.1, 1e-5, st.z.f32(), p.mean.f32(), p.invstd.f32());
      cuda::rrelu_forward(ctx, s, st.z.f32(), p.slope.f32(), st.y.f32());
      cuda::rrelu_backward(ctx, s, st.z.f32(), st.dy.f32(), p.slope.f32(), st.dz.f32(), GradMode::assign,
                           p.dslope.f32());
      cuda::batch_norm_backward(ctx, s, st.x.f32(), st.dz.f32(), p.gamma.f32(), p.mean.f32(), p.invstd.f32(),
                                st.dx.f32(), GradMode::assign, p.dgamma.f32(), p.dbeta.f32());
    } else if (act) {
      cuda::bn_rrelu_forward_train(ctx, s, st.x.f32(), p.gamma.f32(), p.beta.f32(), p.slope.f32(),
                                   p.running_mean.f32(), p.running_var.f32(), 0.1, 1e-5, st.y.f32(), p.mean.f32(),
                                   p.invstd.f32());
      cuda::bn_rrelu_backward(ctx, s, st.x.f32(), st.dy.f32(), p.gamma.f32(), p.beta.f32(), p.slope.f32(),
                              p.mean.f32(), p.invstd.f32(), st.dx.f32(), GradMode::assign, p.dgamma.f32(),
                              p.dbeta.f32(), p.dslope.f32());
    } else {
      cuda::batch_norm_forward_train(ctx, s, st.x.f32(), p.gamma.f32(), p.beta.f32(), p.running_mean.f32(),
                                     p.running_var.f32(), 0.1, 1e-5, st.y.f32(), p.mean.f32(), p.invstd.f32());
      cuda::batch_norm_backward(ctx, s, st.x.f32(), st.dy.f32(), p.gamma.f32(), p.mean.f32(), p.invstd.f32(),
                                st.dx.f32(), GradMode::assign, p.dgamma.f32(), p.dbeta.f32());
    }
  };

  // Validate one call against the CPU.
  p.reset(ctx);
  call(0);
  double err = rel_error(host_values(ctx, bufs[0].y), y);
  err = std::max(err, rel_error(host_values(ctx, bufs[0].dx), dx));
  err = std::max(err, rel_error(host_values(ctx, p.mean), mean));
  err = std::max(err, rel_error(host_values(ctx, p.invstd), invstd));
  err = std::max(err, rel_error(host_values(ctx, p.running_var), rv));
  err = std::max(err, rel_error(host_values(ctx, p.dgamma), dgamma));
  err = std::max(err, rel_error(host_values(ctx, p.dbeta), dbeta));
  if (act) err = std::max(err, rel_error(host_values(ctx, p.dslope), dslope));
  const std::string name = act ? "bn_rrelu" : "batch_norm";
  require_valid(name, err, 1e-4);

  Result r = make_result(name, variant, "fwd+bwd 128x16x32x32");
  r.bytes = 5.0 * n * 4;  // fwd reads x, writes y; bwd reads x, dy, writes dx
  r.rel_err = err;
  if (variant == 2) {
    // One graph per buffer set, each the whole fused fwd + bwd.
    std::vector<cudaGraphExec_t> graphs;
    for (int i = 0; i < sets; ++i) {
      cudaGraph_t g;
      ROTOR_CUDA_CHECK(cudaStreamBeginCapture(b.stream(), cudaStreamCaptureModeThreadLocal));
      call(i);
      ROTOR_CUDA_CHECK(cudaStreamEndCapture(b.stream(), &g));
      cudaGraphExec_t e;
      ROTOR_CUDA_CHECK(cudaGraphInstantiate(&e, g, 0));
      ROTOR_CUDA_CHECK(cudaGraphDestroy(g));
      graphs.push_back(e);
    }
    r.label += " (CUDA graph)";
    b.add(r, b.time(sets, [&](int i) { ROTOR_CUDA_CHECK(cudaGraphLaunch(graphs[i], b.stream())); }));
    for (auto e : graphs) ROTOR_CUDA_CHECK(cudaGraphExecDestroy(e));
    return;
  }
  if (variant == 1) r.label += " (unfused)";
  b.add(r, b.time(sets, call));
}

// ---- bn_add_act: a residual block's tail ----------------------------------------

// Forward (train) + backward of y = RReLU(BN(x) + r) at ResNet-20's first
// stage, fused (variant 0) or as the sequence it replaced (variant 1:
// batch_norm, add, rrelu forward; rrelu backward, the add's two gradient
// copies, batch_norm backward).
void run_bn_add_act(Bench& b, int variant) {
  const ChannelShape s{128, 16, 1024};
  const size_t n = s.numel(), c = s.c;
  Context& ctx = b.ctx();
  Rng rng(9);
  const auto x = random_values(rng, n, -2, 2), gamma = random_values(rng, c, 0.5, 1.5),
             beta = random_values(rng, c, -0.5, 0.5), slope = random_values(rng, c, 0.5, 1.5), dy = random_values(rng, n);
  auto r = random_values(rng, n);
  std::vector<float> y(n), rm(c, 0.0f), rv(c, 1.0f), mean(c), invstd(c);
  cpu::bn_add_act_forward_train<float>(ctx, s, x.data(), r.data(), gamma.data(), beta.data(), slope.data(), rm.data(),
                                       rv.data(), 0.1, 1e-5, y.data(), mean.data(), invstd.data());
  // Move r off the kink, where float and double may decide differently (the
  // statistics do not depend on r).
  for (size_t i = 0; i < n; ++i) {
    const size_t ch = (i / s.hw) % c;
    const double z = double(gamma[ch]) * invstd[ch] * (x[i] - mean[ch]) + beta[ch] + r[i];
    if (std::fabs(z) < 1e-3) r[i] += static_cast<float>(z < 0 ? -2e-3 : 2e-3);
  }
  std::fill(rm.begin(), rm.end(), 0.0f);
  std::fill(rv.begin(), rv.end(), 1.0f);
  cpu::bn_add_act_forward_train<float>(ctx, s, x.data(), r.data(), gamma.data(), beta.data(), slope.data(), rm.data(),
                                       rv.data(), 0.1, 1e-5, y.data(), mean.data(), invstd.data());
  std::vector<float> dx(n), dr(n), dgamma(c, 0.0f), dbeta(c, 0.0f), dslope(c, 0.0f);
  cpu::bn_add_act_backward<float>(ctx, s, x.data(), r.data(), dy.data(), gamma.data(), beta.data(), slope.data(),
                                  mean.data(), invstd.data(), dx.data(), GradMode::assign, dr.data(), GradMode::assign,
                                  dgamma.data(), dbeta.data(), dslope.data());

  // Device buffers, rotated: x, r, dy, y, dx, dr (and bn, z, dz, dbn unfused).
  const double set_bytes = 4.0 * n * (variant == 1 ? 10 : 6);
  const int sets = b.sets_for(set_bytes);
  struct Set {
    Tensor x, r, dy, y, dx, dr, bn, z, dz, dbn;
  };
  std::vector<Set> bufs;
  auto empty = [&] { return Tensor::empty(ctx, {int64_t(n)}); };
  for (int i = 0; i < sets; ++i) {
    Set st{device_tensor(ctx, x), device_tensor(ctx, r), device_tensor(ctx, dy), empty(), empty(), empty(), {}, {}, {},
           {}};
    if (variant == 1) {
      st.bn = empty();
      st.z = empty();
      st.dz = empty();
      st.dbn = empty();
    }
    bufs.push_back(std::move(st));
  }
  ChannelParamsDev p(ctx, gamma, beta, slope);
  auto call = [&](int i) {
    Set& st = bufs[i];
    if (variant == 1) {
      cuda::batch_norm_forward_train(ctx, s, st.x.f32(), p.gamma.f32(), p.beta.f32(), p.running_mean.f32(),
                                     p.running_var.f32(), 0.1, 1e-5, st.bn.f32(), p.mean.f32(), p.invstd.f32());
      cuda::add_forward(ctx, int64_t(n), st.bn.f32(), st.r.f32(), st.z.f32());
      cuda::rrelu_forward(ctx, s, st.z.f32(), p.slope.f32(), st.y.f32());
      cuda::rrelu_backward(ctx, s, st.z.f32(), st.dy.f32(), p.slope.f32(), st.dz.f32(), GradMode::assign,
                           p.dslope.f32());
      cuda::copy_grad(ctx, int64_t(n), st.dz.f32(), st.dbn.f32(), GradMode::assign);
      cuda::copy_grad(ctx, int64_t(n), st.dz.f32(), st.dr.f32(), GradMode::assign);
      cuda::batch_norm_backward(ctx, s, st.x.f32(), st.dbn.f32(), p.gamma.f32(), p.mean.f32(), p.invstd.f32(),
                                st.dx.f32(), GradMode::assign, p.dgamma.f32(), p.dbeta.f32());
    } else {
      cuda::bn_add_act_forward_train(ctx, s, st.x.f32(), st.r.f32(), p.gamma.f32(), p.beta.f32(), p.slope.f32(),
                                     p.running_mean.f32(), p.running_var.f32(), 0.1, 1e-5, st.y.f32(),
                                     p.mean.f32(), p.invstd.f32());
      cuda::bn_add_act_backward(ctx, s, st.x.f32(), st.r.f32(), st.dy.f32(), p.gamma.f32(), p.beta.f32(),
                                p.slope.f32(), p.mean.f32(), p.invstd.f32(), st.dx.f32(), GradMode::assign,
                                st.dr.f32(), GradMode::assign, p.dgamma.f32(), p.dbeta.f32(), p.dslope.f32());
    }
  };

  p.reset(ctx);
  call(0);
  double err = rel_error(host_values(ctx, bufs[0].y), y);
  err = std::max(err, rel_error(host_values(ctx, bufs[0].dx), dx));
  err = std::max(err, rel_error(host_values(ctx, bufs[0].dr), dr));
  err = std::max(err, rel_error(host_values(ctx, p.mean), mean));
  err = std::max(err, rel_error(host_values(ctx, p.invstd), invstd));
  err = std::max(err, rel_error(host_values(ctx, p.running_var), rv));
  err = std::max(err, rel_error(host_values(ctx, p.dgamma), dgamma));
  err = std::max(err, rel_error(host_values(ctx, p.dbeta), dbeta));
  err = std::max(err, rel_error(host_values(ctx, p.dslope), dslope));
  require_valid("bn_add_act", err, 1e-4);

  Result res = make_result("bn_add_act", variant, "fwd+bwd 128x16x32x32");
  res.bytes = 8.0 * n * 4;  // fwd reads x, r, writes y; bwd reads x, r, dy, writes dx, dr
  res.rel_err = err;
  if (variant == 1) res.label += " (unfused)";
  b.add(res, b.time(sets, call));
}

// ---- conv2d --------------------------------------------------------------------

enum class ConvDir { fwd, bwd_data, bwd_weight };

// Variants: 0 the FP32 SIMT kernels (precision fp32), tf32_variant the
// tensor-core kernels in TF32 (precision tf32 on sm_80+) and
// tf32_variant + 1 in FP16 (precision fp16 on sm_75+; never yet run on a
// GPU before this bench), both validated against the FP32 CPU result with
// an 11-bit significand's tolerance, and for the forward 1 im2col + cuBLAS.
void run_conv(Bench& b, ConvDir dir, int variant, int tf32_variant) {
  Context& ctx = b.ctx();
  const bool tf32 = variant == tf32_variant, fp16 = variant == tf32_variant + 1;
  const int cc = ctx.cuda().prop.major * 10 + ctx.cuda().prop.minor;
  if ((tf32 && cc < 80) || (fp16 && cc < 75)) {
    std::printf("%s %d: skipped, this GPU (sm_%d) has no %s tensor cores\n",
                dir == ConvDir::fwd ? "conv2d_fwd" : dir == ConvDir::bwd_data ? "conv2d_bwd_data" : "conv2d_bwd_weight",
                variant, cc, tf32 ? "TF32" : "FP16");
    return;
  }
  // Back to the context's default (fp32 here) however this returns.
  struct PrecisionScope {
    Context& ctx;
    ~PrecisionScope() { ctx.set_precision(Precision::fp32); }
  } scope{ctx};
  ctx.set_precision(tf32 ? Precision::tf32 : fp16 ? Precision::fp16 : Precision::fp32);
  const char* names[] = {"conv2d_fwd", "conv2d_bwd_data", "conv2d_bwd_weight"};
  const std::string name = names[static_cast<int>(dir)];
  // ResNet-20's three stages at batch 128 (3x3, stride 1, padding 1).
  const ConvShape shapes[] = {
      {128, 16, 32, 32, 16, 3, 3, 1, 1}, {128, 32, 16, 16, 32, 3, 3, 1, 1}, {128, 64, 8, 8, 64, 3, 3, 1, 1}};
  for (const ConvShape& s : shapes) {
    Rng rng(8 + s.c_in);
    const size_t nx = s.x_numel(), nw = s.w_numel(), ny = s.y_numel();
    const auto x = random_values(rng, nx), w = random_values(rng, nw), dy = random_values(rng, ny);
    std::vector<float> ref;
    if (dir == ConvDir::fwd) {
      ref.resize(ny);
      cpu::conv2d_forward<float>(ctx, s, x.data(), w.data(), ref.data());
    } else if (dir == ConvDir::bwd_data) {
      ref.resize(nx);
      cpu::conv2d_backward_data<float>(ctx, s, dy.data(), w.data(), ref.data(), GradMode::assign);
    } else {
      ref.assign(nw, 0.0f);
      cpu::conv2d_backward_weight<float>(ctx, s, x.data(), dy.data(), ref.data());
    }
    const double in_bytes = 4.0 * (dir == ConvDir::fwd ? nx + nw : dir == ConvDir::bwd_data ? ny + nw : nx + ny);
    const double out_bytes = 4.0 * ref.size();
    const int sets = b.sets_for(in_bytes + out_bytes);
    struct Set {
      Tensor a, out;
    };
    std::vector<Set> bufs;
    for (int i = 0; i < sets; ++i)
      bufs.push_back(
          {device_tensor(ctx, dir == ConvDir::bwd_data ? dy : x), Tensor::empty(ctx, {int64_t(ref.size())})});
    Tensor w_dev = device_tensor(ctx, w), dy_dev = device_tensor(ctx, dy);
    const int64_t k = s.c_in * s.kh * s.kw, hw_out = s.h_out() * s.w_out();
    Tensor col;
    if (variant == 1) col = Tensor::empty(ctx, {s.n * k * hw_out});
    auto call = [&](int i) {
      Set& st = bufs[i];
      switch (dir) {
        case ConvDir::fwd:
          if (variant == 1) {
            // y_i (C_out, HoWo) = w (C_out, K) col_i (K, HoWo), column-major: y_i^T = col_i^T w^T.
            im2col(b.stream(), s, st.a.f32(), col.f32());
            const float one = 1.0f, zero = 0.0f;
            ROTOR_CUBLAS_CHECK(cublasSgemmStridedBatched(
                ctx.cuda().cublas, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(hw_out), static_cast<int>(s.c_out),
                static_cast<int>(k), &one, col.f32(), static_cast<int>(hw_out), k * hw_out, w_dev.f32(),
                static_cast<int>(k), 0, &zero, st.out.f32(), static_cast<int>(hw_out), s.c_out * hw_out,
                static_cast<int>(s.n)));
          } else {
            cuda::conv2d_forward(ctx, s, st.a.f32(), w_dev.f32(), st.out.f32());
          }
          break;
        case ConvDir::bwd_data:
          cuda::conv2d_backward_data(ctx, s, st.a.f32(), w_dev.f32(), st.out.f32(), GradMode::assign);
          break;
        case ConvDir::bwd_weight:
          cuda::conv2d_backward_weight(ctx, s, st.a.f32(), dy_dev.f32(), st.out.f32());
          break;
      }
    };
    if (dir == ConvDir::bwd_weight) fill(ctx, bufs[0].out, 0.0f);  // the weight gradient accumulates
    call(0);
    const double err = rel_error(host_values(ctx, bufs[0].out), ref);
    char label[96];
    std::snprintf(label, sizeof label, "%lldx%lldx%lldx%lld k3 -> %lld%s", (long long)s.n, (long long)s.c_in,
                  (long long)s.h, (long long)s.w, (long long)s.c_out,
                  tf32 ? " tf32 tensor cores" : fp16 ? " fp16 tensor cores" : variant == 1 ? " im2col+cuBLAS" : "");
    // TF32 and FP16 round each operand to 11 significant bits: a norm-wise
    // error of about 2^-11 / 2 per product, averaging down over K terms (FP16's
    // dy scaling keeps gradients in its normal range).
    require_valid(name + " " + label, err, tf32 || fp16 ? 2e-3 : 1e-4);
    Result r = make_result(name, variant, label);
    r.flops = 2.0 * s.n * s.c_out * hw_out * k;
    r.bytes = in_bytes + out_bytes;
    r.memory_bound = false;
    r.rel_err = err;
    b.add(r, b.time(sets, call));
  }
}

// ---- softmax cross-entropy --------------------------------------------------------

void run_softmax_ce(Bench& b) {
  Context& ctx = b.ctx();
  const int64_t n = 128, k = 10;
  Rng rng(9);
  const auto logits = random_values(rng, n * k, -4, 4);
  std::vector<int32_t> labels(n);
  for (auto& l : labels) l = static_cast<int32_t>(rng.below(k));
  std::vector<float> loss(1), dlogits(n * k);
  const std::vector<float> one = {1.0f};
  cpu::softmax_cross_entropy_forward<float>(ctx, n, k, logits.data(), labels.data(), loss.data());
  cpu::softmax_cross_entropy_backward<float>(ctx, n, k, logits.data(), labels.data(), one.data(), dlogits.data(),
                                             GradMode::assign);
  Tensor logits_dev = device_tensor(ctx, logits), loss_dev = Tensor::empty(ctx, {1}),
         dlogits_dev = Tensor::empty(ctx, {n * k}), one_dev = device_tensor(ctx, one),
         labels_dev = Tensor::empty(ctx, {n}, DType::i32), correct = Tensor::empty(ctx, {1}, DType::i64);
  copy_bytes(ctx, labels_dev.raw(), Device::cuda, labels.data(), Device::cpu, n * 4);
  auto call = [&](int) {
    cuda::softmax_cross_entropy_forward(ctx, n, k, logits_dev.f32(), labels_dev.data<int32_t>(), loss_dev.f32());
    cuda::softmax_cross_entropy_backward(ctx, n, k, logits_dev.f32(), labels_dev.data<int32_t>(), one_dev.f32(),
                                         dlogits_dev.f32(), GradMode::assign);
    cuda::count_correct(ctx, n, k, logits_dev.f32(), labels_dev.data<int32_t>(), correct.data<int64_t>());
  };
  call(0);
  const double err =
      std::max(rel_error(host_values(ctx, loss_dev), loss), rel_error(host_values(ctx, dlogits_dev), dlogits));
  require_valid("softmax_ce", err, 1e-5);
  Result r = make_result("softmax_ce", 0, "fwd+bwd+count 128x10");
  r.bytes = 3.0 * n * k * 4;
  r.rel_err = err;
  r.note = "(launch-bound at this size)";
  b.add(r, b.time(1, call));
}

// ---- a whole training step ----------------------------------------------------------

// The network, batch and precision of train_step (flags --model, --act,
// --batch, --precision).
struct StepOptions {
  std::string model = "resnet20";
  Activation act = Activation::rrelu;
  int64_t batch = 128;
  // The GPU engine's convolutions, as `rotor train --precision` sets them
  // (tf32 is rotor's default; on sm_75 it runs FP32 SIMT). The CPU twin
  // that validates the losses is always FP32.
  Precision precision = Precision::tf32;
};

// One engine on `device` training a CIFAR-shaped network (3x32x32, 10
// classes) on one fixed batch of random images and labels: the timing does
// not depend on the values, and CPU and GPU start from identical weights.
// SGD with Nesterov momentum 0.9 and weight decay 5e-4 on every parameter,
// as bench/pytorch_step.py configures PyTorch.
struct TrainRun {
  std::unique_ptr<Context> ctx;
  std::unique_ptr<Model> model;
  std::unique_ptr<Optimizer> opt;
  Tensor x, labels;  // (N, 3, 32, 32), (N)

  TrainRun(Device device, const StepOptions& o) {
    ContextOptions co;
    co.device = device;
    co.seed = 3;
    co.precision = o.precision;
    ctx = std::make_unique<Context>(co);
    ModelSpec spec;
    spec.arch = o.model;
    spec.act = o.act;
    spec.in_channels = 3;
    spec.height = spec.width = 32;
    spec.classes = 10;
    model = build_model(*ctx, spec);
    for (auto& [name, p] : model->named_slopes()) init_slopes_type1(*ctx, p->value());
    OptimizerConfig config;
    config.momentum = 0.9;
    config.nesterov = true;
    for (auto& g : config.groups) g.weight_decay = 5e-4;
    opt = std::make_unique<Optimizer>(*ctx, model->named_parameters(), config);
    Rng rng(4);
    x = from_host(*ctx, {o.batch, 3, 32, 32}, random_values(rng, size_t(o.batch) * 3 * 32 * 32, -2, 2));
    Tensor host = Tensor::host({o.batch}, DType::i32);
    for (int64_t i = 0; i < o.batch; ++i) host.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
    labels = to_device(*ctx, host, device);
  }
  // The trainer's step (apps/trainer.h); returns the loss tensor, unread (no
  // synchronisation).
  Tensor step(int64_t index) {
    return train_step(*ctx, *model, *opt, x, labels, 0.1, hash_u64(9, static_cast<uint64_t>(index))).loss;
  }
};

// The line scripts parse (bench/pytorch_step.py prints the same):
//   train_step impl=rotor mode=eager model=resnet20 act=rrelu batch=128 ms=1.234 min_ms=1.200 img_s=103728 steps=30
//   device=NVIDIA_H200 data=random precision=tf32
// (one line; ms is the median per step, min_ms the fastest step).
void print_step_line(const char* mode, const StepOptions& o, const std::vector<double>& us, const std::string& device) {
  std::string dev = device;
  std::replace(dev.begin(), dev.end(), ' ', '_');
  const double med = us[us.size() / 2];
  std::printf(
      "train_step impl=rotor mode=%s model=%s act=%s batch=%lld ms=%.4f min_ms=%.4f img_s=%.0f steps=%zu "
      "device=%s data=random precision=%s\n",
      mode, o.model.c_str(), activation_name(o.act), static_cast<long long>(o.batch), med * 1e-3, us.front() * 1e-3,
      o.batch / (med * 1e-6), us.size(), dev.c_str(), precision_name(o.precision));
  std::fflush(stdout);
}

// Per-step times in microseconds, sorted: `repeats` steps after 3 of
// warm-up, each the interval between events recorded on the engine's
// stream after consecutive steps (so host launch time that the GPU waits
// for counts, as it does in training). `launch(i)` enqueues step i.
std::vector<double> time_steps(cudaStream_t st, int repeats, const std::function<void()>& launch) {
  for (int i = 0; i < 3; ++i) launch();
  std::vector<cudaEvent_t> ev(repeats + 1);
  for (auto& e : ev) ROTOR_CUDA_CHECK(cudaEventCreate(&e));
  ROTOR_CUDA_CHECK(cudaEventRecord(ev[0], st));
  for (int i = 0; i < repeats; ++i) {
    launch();
    ROTOR_CUDA_CHECK(cudaEventRecord(ev[i + 1], st));
  }
  ROTOR_CUDA_CHECK(cudaStreamSynchronize(st));
  std::vector<double> us;
  for (int i = 0; i < repeats; ++i) {
    float ms = 0;
    ROTOR_CUDA_CHECK(cudaEventElapsedTime(&ms, ev[i], ev[i + 1]));
    us.push_back(1e3 * ms);
  }
  for (auto& e : ev) ROTOR_CUDA_CHECK(cudaEventDestroy(e));
  std::sort(us.begin(), us.end());
  return us;
}

void run_train_step(Bench& b, int variant, const StepOptions& o) {
  TrainRun gpu(Device::cuda, o);
  // Validate the first two steps' losses against the CPU engine.
  double err = 0;
  {
    TrainRun cpu(Device::cpu, o);
    for (int i = 0; i < 2; ++i) {
      const float lc = host_values(*cpu.ctx, cpu.step(i))[0], lg = host_values(*gpu.ctx, gpu.step(i))[0];
      err = std::max(err, std::fabs(double(lg) - lc) / std::fabs(double(lc)));
      std::printf("train_step validation: step %d loss cpu %.6f gpu %.6f\n", i, lc, lg);
    }
  }
  require_valid("train_step losses", err, 1e-3);
  const std::string label =
      fmt::format("{} {}, batch {}, SGD, {}", o.model, activation_name(o.act), o.batch, precision_name(o.precision));
  Result r = make_result("train_step", variant, label);
  // Forward + two backward products per conv, as counted in DESIGN.md.
  double flops = 0;
  for (const LayerCost& l : gpu.model->layer_costs()) flops += l.flops;
  r.flops = 3.0 * flops * o.batch;
  r.memory_bound = false;
  r.rel_err = err;
  const std::string device = b.device_name();
  cudaStream_t st = gpu.ctx->cuda().stream;
  int64_t index = 2;
  std::vector<double> us;
  if (variant == 1) {
    // The engine's graph step (apps/graph_step.h), as `rotor train
    // --cuda-graph on` runs it: the first run is its eager warm-up, the
    // second captures and replays, later runs replay. First it must give the
    // eager step's parameters: 4 steps of each from identical engines.
    ProximalL1 no_l1(gpu.model->named_parameters(), {});
    {
      TrainRun eager_run(Device::cuda, o), graph_run(Device::cuda, o);
      Tensor loss_sum = Tensor::empty(*graph_run.ctx, {1}), correct = Tensor::empty(*graph_run.ctx, {1}, DType::i64);
      GraphStep g(*graph_run.ctx, *graph_run.model, *graph_run.opt, no_l1, false, o.batch);
      copy(*graph_run.ctx, graph_run.x, g.x());
      copy(*graph_run.ctx, graph_run.labels, g.labels());
      for (int i = 0; i < 4; ++i) {
        eager_run.step(i);
        g.run(0.1, hash_u64(9, static_cast<uint64_t>(i)), loss_sum, correct);
      }
      std::vector<float> a, c;
      for (auto& [name, p] : eager_run.model->named_parameters()) {
        const std::vector<float> v = host_values(*eager_run.ctx, p->value());
        a.insert(a.end(), v.begin(), v.end());
      }
      for (auto& [name, p] : graph_run.model->named_parameters()) {
        const std::vector<float> v = host_values(*graph_run.ctx, p->value());
        c.insert(c.end(), v.begin(), v.end());
      }
      const bool same = a.size() == c.size() && std::memcmp(a.data(), c.data(), a.size() * sizeof(float)) == 0;
      std::printf("train_step graph validation: parameters after 4 steps %s the eager step's (%zu replays%s%s)\n",
                  same ? "equal" : "DIFFER FROM", static_cast<size_t>(g.replays()),
                  g.fallback_reason().empty() ? "" : "; capture failed: ", g.fallback_reason().c_str());
      require_valid("train_step graph vs eager parameters", rel_error(c, a), 1e-6);
    }
    Tensor loss_sum = Tensor::empty(*gpu.ctx, {1}), correct = Tensor::empty(*gpu.ctx, {1}, DType::i64);
    GraphStep g(*gpu.ctx, *gpu.model, *gpu.opt, no_l1, false, o.batch);
    copy(*gpu.ctx, gpu.x, g.x());
    copy(*gpu.ctx, gpu.labels, g.labels());
    us = time_steps(st, b.repeats(), [&] { g.run(0.1, 0, loss_sum, correct); });
    if (!g.fallback_reason().empty()) {
      std::printf("train_step v1: the step could not be captured as a CUDA graph: %s\n", g.fallback_reason().c_str());
      r.note = "capture failed: " + g.fallback_reason();
      b.results.push_back(r);
      return;
    }
    r.label += " (CUDA graph)";
  } else {
    us = time_steps(st, b.repeats(), [&] { gpu.step(index++); });
  }
  print_step_line(variant == 1 ? "graph" : "eager", o, us, device);
  r.median_us = us[us.size() / 2];
  r.min_us = us.front();
  r.images_per_s = o.batch / (r.median_us * 1e-6);
  b.results.push_back(r);
}

// ---- peak memory of a training step ---------------------------------------------------

// What a training step holds on the GPU (engine/memory_footprint.h): the
// caching allocator's high-water mark (it keeps what it once allocated), the
// ops' workspace and cuBLAS's, after two steps (the first allocates, the
// second should add nothing: "grew" says if it did), and cudaMemGetInfo's
// view (used = total - free: with the CUDA context, and with any other
// process on the card). One line, for scripts:
//   memory model=wrn-40-4 act=rrelu batch=128 tensors_held_mib=... in_use_mib=... workspace_mib=...
//   cublas_workspace_mib=... total_mib=... grew_mib=0.0 device_used_mib=... device_total_mib=... device=...
//   precision=tf32
void run_memory(Bench& b, const StepOptions& step) {
  size_t free_before = 0, device_total = 0;
  ROTOR_CUDA_CHECK(cudaMemGetInfo(&free_before, &device_total));
  TrainRun gpu(Device::cuda, step);
  gpu.step(0);
  gpu.ctx->synchronize();
  const MemoryFootprint first = memory_footprint(*gpu.ctx);
  gpu.step(1);
  gpu.ctx->synchronize();
  const MemoryFootprint f = memory_footprint(*gpu.ctx);
  size_t free_after = 0;
  ROTOR_CUDA_CHECK(cudaMemGetInfo(&free_after, &device_total));
  std::string dev = b.device_name();
  std::replace(dev.begin(), dev.end(), ' ', '_');
  const auto mib = [](size_t bytes) { return bytes / 1048576.0; };
  std::printf(
      "memory model=%s act=%s batch=%lld tensors_held_mib=%.1f in_use_mib=%.1f workspace_mib=%.1f "
      "cublas_workspace_mib=%.1f total_mib=%.1f grew_mib=%.1f device_used_mib=%.1f device_total_mib=%.1f "
      "device=%s precision=%s\n",
      step.model.c_str(), activation_name(step.act), static_cast<long long>(step.batch), mib(f.tensors_held),
      mib(f.tensors_in_use), mib(f.workspace), mib(f.cublas_workspace), mib(f.total()),
      mib(f.total() > first.total() ? f.total() - first.total() : 0), mib(device_total - free_after),
      mib(device_total), dev.c_str(), precision_name(step.precision));
  std::fflush(stdout);
}

// ---- the table of kernels and variants -------------------------------------------------

// What the command line asked for.
struct Options {
  std::string kernel;  // a table name or "all"
  int variant = -1;    // -1: not given (variant 0; "all" runs every variant)
  std::string variant_name;  // a variant given by name ("tf32": the one whose description starts "tf32:")
  std::string json_path;
  int repeats = 30;
  StepOptions step;
  bool step_flags = false;  // --model, --act, --batch or --precision given
  bool model_given = false;  // --model given (memory's default is wrn-40-4)
};

struct Kernel {
  const char* name;
  // Variant v is variants[v]; variant 0 is the shipped kernel.
  std::vector<const char*> variants;
  // Reports a fraction of the copy or SGEMM ceiling, so those run first.
  bool needs_ceilings;
  void (*run)(Bench&, int variant, const Options&);
};

const std::vector<Kernel>& kernel_table() {
  static const std::vector<Kernel> table = {
      {"copy",
       {"cudaMemcpyAsync 512 MiB device-to-device (the bandwidth ceiling)"},
       false,
       [](Bench& b, int, const Options&) { run_copy(b); }},
      {"sgemm",
       {"cuBLAS 8192^3 FP32 (the compute ceiling)"},
       false,
       [](Bench& b, int, const Options&) { run_sgemm(b); }},
      {"bn_rrelu",
       {"shipped fused batch norm + RReLU", "unfused: batch_norm + rrelu kernels",
        "variant 0 replayed from a CUDA graph (launch gaps removed)"},
       true,
       [](Bench& b, int v, const Options&) { run_bn(b, true, v); }},
      {"batch_norm", {"shipped batch norm"}, true, [](Bench& b, int v, const Options&) { run_bn(b, false, v); }},
      {"bn_add_act",
       {"shipped fused batch norm + residual add + RReLU (a block's tail)",
        "unfused: batch_norm, add, rrelu kernels and the add's two gradient copies"},
       true,
       [](Bench& b, int v, const Options&) { run_bn_add_act(b, v); }},
      {"conv2d_fwd",
       {"shipped FP32 SIMT implicit-GEMM convolution (--precision fp32)",
        "explicit im2col + cuBLAS SGEMM (strided batched)",
        "tf32: shipped tensor-core implicit GEMM (--precision tf32, the default on sm_80+)",
        "fp16: FP16 tensor-core implicit GEMM (--precision fp16, sm_75+)"},
       true,
       [](Bench& b, int v, const Options&) { run_conv(b, ConvDir::fwd, v, 2); }},
      {"conv2d_bwd_data",
       {"shipped FP32 SIMT implicit-GEMM input gradient (--precision fp32)",
        "tf32: shipped tensor-core input gradient (--precision tf32, the default on sm_80+)",
        "fp16: FP16 tensor-core input gradient, dy scaled by a power of two (--precision fp16, sm_75+)"},
       true,
       [](Bench& b, int v, const Options&) { run_conv(b, ConvDir::bwd_data, v, 1); }},
      {"conv2d_bwd_weight",
       {"shipped FP32 SIMT implicit-GEMM weight gradient (--precision fp32)",
        "tf32: shipped tensor-core weight gradient (--precision tf32, the default on sm_80+)",
        "fp16: FP16 tensor-core weight gradient, dy scaled by a power of two (--precision fp16, sm_75+)"},
       true,
       [](Bench& b, int v, const Options&) { run_conv(b, ConvDir::bwd_weight, v, 1); }},
      {"softmax_ce",
       {"shipped forward + backward + count_correct"},
       true,
       [](Bench& b, int, const Options&) { run_softmax_ce(b); }},
      {"train_step",
       {"the trainer's step, eager (forward, backward, SGD update)",
        "that step replayed as a CUDA graph (apps/graph_step.h, rotor train --cuda-graph on)"},
       false,
       [](Bench& b, int v, const Options& o) { run_train_step(b, v, o.step); }},
      {"memory",
       {"peak GPU memory of the trainer's step (default --model wrn-40-4 --batch 128)"},
       false,
       [](Bench& b, int, const Options& o) {
         StepOptions s = o.step;
         if (!o.model_given) s.model = "wrn-40-4";
         run_memory(b, s);
       }},
  };
  return table;
}

const Kernel* find_kernel(const std::string& name) {
  for (const Kernel& k : kernel_table())
    if (name == k.name) return &k;
  return nullptr;
}

std::string kernel_names() {
  std::string s;
  for (const Kernel& k : kernel_table()) s += std::string(s.empty() ? "" : ", ") + k.name;
  return s + ", all";
}

std::string variant_list(const Kernel& k) {
  std::string s;
  for (size_t v = 0; v < k.variants.size(); ++v) s += fmt::format("\n  {} {}: {}", k.name, v, k.variants[v]);
  return s;
}

void print_table() {
  std::printf("kernels and variants (variant 0 is the shipped kernel):");
  for (const Kernel& k : kernel_table()) std::printf("%s", variant_list(k).c_str());
  std::printf("\n");
}

constexpr const char* usage_text =
    "usage: bench_cuda <kernel> [variant: a number, or tf32/fp16 for conv2d_* tensor cores] [--json FILE] [--repeats N]\n"
    "       bench_cuda train_step [variant] [--model resnet20|resnet56|resnet<6n+2>] [--batch N] [--act relu|rrelu]\n"
    "                  [--precision fp32|tf32|fp16]  (the convolutions' precision; default tf32, as rotor train)\n"
    "       bench_cuda memory [--model wrn-40-4|resnet20|...] [--batch N] [--act relu|rrelu] [--precision ...]\n"
    "       bench_cuda all [--json FILE]     (every variant of every kernel)\n"
    "       bench_cuda --list                (the kernels and their variants)\n";

// A command-line error: one line naming the argument, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int64_t parse_count(const std::string& flag, const std::string& text) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError(fmt::format("{} expects a whole number, not '{}'", flag, text));
  return v;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(fmt::format("{} needs a value", a));
      return argv[++i];
    };
    // A step flag whose value `parse` checks: its error becomes a usage
    // error naming the flag.
    auto checked = [&](const std::string& flag, const std::function<void()>& parse) {
      o.step_flags = true;
      try {
        parse();
      } catch (const std::exception& e) {
        throw UsageError(fmt::format("{}: {}", flag, e.what()));
      }
    };
    if (a == "--json") {
      o.json_path = value();
    } else if (a == "--repeats") {
      const int64_t r = parse_count(a, value());
      if (r < 1 || r > 100000) throw UsageError(fmt::format("--repeats {}: expected 1 to 100000", r));
      o.repeats = static_cast<int>(r);
    } else if (a == "--model") {
      const std::string v = value();
      checked(a, [&] { check_arch(v); });
      o.step.model = v;
      o.model_given = true;
    } else if (a == "--act") {
      const std::string v = value();
      checked(a, [&] { o.step.act = parse_activation(v); });
    } else if (a == "--batch") {
      const int64_t n = parse_count(a, value());
      o.step_flags = true;
      if (n < 2 || n > 65536)
        throw UsageError(fmt::format("--batch {}: expected 2 to 65536 images (batch norm needs 2)", n));
      o.step.batch = n;
    } else if (a == "--precision") {
      const std::string v = value();
      checked(a, [&] { o.step.precision = parse_precision(v); });
    } else if (a.size() > 1 && a[0] == '-') {
      throw UsageError(fmt::format("unknown flag {}", a));
    } else if (o.kernel.empty()) {
      o.kernel = a;
    } else if (o.variant < 0 && o.variant_name.empty() && !a.empty() && std::isalpha(static_cast<unsigned char>(a[0]))) {
      o.variant_name = a;
    } else if (o.variant < 0 && o.variant_name.empty()) {
      o.variant = static_cast<int>(std::min<int64_t>(parse_count("the variant", a), 1000));
      if (o.variant < 0) throw UsageError(fmt::format("variant {}: variants are numbered from 0", a));
    } else {
      throw UsageError(fmt::format("unexpected argument '{}'", a));
    }
  }
  if (o.kernel.empty()) throw UsageError("no kernel given");
  if ((o.kernel == "train_step" || o.kernel == "all") && o.step.model.rfind("resnet", 0) != 0)
    throw UsageError(
        fmt::format("--model {}: train_step builds the CIFAR ResNets (resnet20, resnet56, "
                    "resnet<6n+2>), the networks bench/pytorch_step.py builds too",
                    o.step.model));
  if (o.kernel == "all") {
    if (o.variant >= 0 || !o.variant_name.empty()) throw UsageError("'all' runs every variant of every kernel: give no variant");
    return o;
  }
  const Kernel* k = find_kernel(o.kernel);
  if (!k) throw UsageError(fmt::format("unknown kernel '{}'; the kernels are {}", o.kernel, kernel_names()));
  if (!o.variant_name.empty()) {
    const std::string prefix = o.variant_name + ":";
    for (size_t v = 0; v < k->variants.size(); ++v)
      if (std::string(k->variants[v]).rfind(prefix, 0) == 0) o.variant = static_cast<int>(v);
    if (o.variant < 0)
      throw UsageError(
          fmt::format("{} has no variant '{}'; its variants are:{}", k->name, o.variant_name, variant_list(*k)));
  }
  if (o.variant >= static_cast<int>(k->variants.size()))
    throw UsageError(fmt::format("{} has no variant {}; its variants are:{}", k->name, o.variant, variant_list(*k)));
  if (o.step_flags && o.kernel != "train_step" && o.kernel != "memory")
    throw UsageError(
        fmt::format("--model, --act, --batch and --precision apply to train_step and memory (and all), not to {}",
                    o.kernel));
  return o;
}

}  // namespace
}  // namespace rotor::bench

int main(int argc, char** argv) {
  using namespace rotor::bench;
  if (argc == 2 && (std::strcmp(argv[1], "--list") == 0 || std::strcmp(argv[1], "--help") == 0)) {
    if (std::strcmp(argv[1], "--help") == 0) std::printf("%s", usage_text);
    print_table();
    return 0;
  }
  Options o;
  try {
    o = parse_options(argc, argv);
  } catch (const UsageError& e) {
    const bool listed = std::strchr(e.what(), '\n') != nullptr;  // the message lists the choices itself
    std::fprintf(stderr, "bench_cuda: %s%s\n", e.what(), listed ? "" : " (bench_cuda --help shows the usage)");
    return 2;
  }
  if (rotor::cuda_device_count() == 0) {
    std::fprintf(stderr, "bench_cuda: %s\n", rotor::cuda_unavailable_reason().c_str());
    return 77;
  }
  try {
    Bench b(o.repeats);
    // What runs, in table order: (kernel, variant).
    std::vector<std::pair<const Kernel*, int>> work;
    for (const Kernel& k : kernel_table()) {
      if (o.kernel == "all") {
        for (int v = 0; v < static_cast<int>(k.variants.size()); ++v) work.emplace_back(&k, v);
      } else if (o.kernel == k.name && o.variant < 0 && std::string(k.name) == "train_step") {
        // Both modes of the step (eager, graph): the ratio is the point.
        for (int v = 0; v < static_cast<int>(k.variants.size()); ++v) work.emplace_back(&k, v);
      } else if (o.kernel == k.name) {
        work.emplace_back(&k, std::max(o.variant, 0));
      }
    }
    // The ceilings first: every fraction below is of numbers from this run
    // ("all" runs them first anyway: they open the table).
    if (o.kernel != "all" && find_kernel(o.kernel)->needs_ceilings) {
      run_copy(b);
      run_sgemm(b);
    }
    for (const auto& [k, v] : work) k->run(b, v, o);
    if (!o.json_path.empty()) {
      std::ofstream out(o.json_path);
      out << b.to_json().dump(2) << "\n";
      if (!out) {
        std::fprintf(stderr, "bench_cuda: cannot write %s\n", o.json_path.c_str());
        return 1;
      }
      std::printf("wrote %s\n", o.json_path.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda: %s\n", e.what());
    return 1;
  }
  return 0;
}
