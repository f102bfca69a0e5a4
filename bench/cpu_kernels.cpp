// CPU kernel microbenchmarks: the shipped cpu:: kernels at the shapes of a
// CIFAR ResNet-20 training step (batch 128), each as a fraction of a ceiling
// measured in the same run on the same threads:
//   compute-bound (conv2d)  : our GEMM at 1024^3 (GFLOP/s);
//   memory-bound (bn_rrelu, bn_add_act) : a large memcpy (GB/s counted as
//   read + write). bn_add_act (a residual block's tail) is timed beside
//   the unfused batch_norm, add, rrelu sequence it replaced.
//
//   bench_cpu_kernels [--threads N] [--repeats N]
//
// The kernels' correctness is the test suite's job (direct definition,
// central differences, PyTorch golden cases); this only times them: median
// of --repeats runs after one warm-up, inputs larger than the last-level
// cache where it matters (the memcpy ceiling uses 256 MiB).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "apps/cli.h"
#include "engine/context.h"
#include "engine/rng.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/bn_add_act.h"
#include "kernels/bn_rrelu.h"
#include "kernels/elementwise.h"
#include "kernels/conv2d.h"
#include "kernels/gemm.h"

using namespace rotor;

namespace {

double median_ms(int repeats, const std::function<void()>& body) {
  body();  // warm-up: scratch buffers, page faults
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    body();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::vector<float> random_floats(Rng& rng, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(rng.uniform() * 2 - 1);
  return v;
}

struct Ceilings {
  double gflops = 0;  // GEMM 1024^3
  double gbps = 0;    // memcpy, read + write
};

Ceilings measure_ceilings(Context& ctx, Rng& rng, int repeats) {
  Ceilings c;
  const int64_t n = 1024;
  const std::vector<float> a = random_floats(rng, n * n), b = random_floats(rng, n * n);
  std::vector<float> out(static_cast<size_t>(n * n));
  const double gemm_ms = median_ms(repeats, [&] {
    cpu::gemm<float>(ctx, false, false, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, out.data(), n);
  });
  c.gflops = 2.0 * n * n * n / gemm_ms / 1e6;
  // memcpy split over the pool as the memory-bound kernels are.
  const int64_t bytes = int64_t(256) << 20;
  std::vector<char> src(static_cast<size_t>(bytes), 1), dst(static_cast<size_t>(bytes));
  const double copy_ms = median_ms(repeats, [&] {
    ctx.pool().parallel_for(
        bytes, [&](int64_t b0, int64_t b1, int) { std::memcpy(dst.data() + b0, src.data() + b0, b1 - b0); }, 1);
  });
  c.gbps = 2.0 * bytes / copy_ms / 1e6;
  return c;
}

void print_row(const std::string& name, const std::string& shape, double ms, double rate, const char* unit,
               double ceiling) {
  std::printf("%-22s %-22s %9.3f ms %9.1f %-7s %5.1f%%\n", name.c_str(), shape.c_str(), ms, rate, unit,
              100.0 * rate / ceiling);
}

void bench_conv(Context& ctx, Rng& rng, int repeats, const Ceilings& c, int64_t channels, int64_t size) {
  const ConvShape s{128, channels, size, size, channels, 3, 3, 1, 1};
  const std::vector<float> x = random_floats(rng, s.x_numel()), w = random_floats(rng, s.w_numel()),
                           dy = random_floats(rng, s.y_numel());
  std::vector<float> y(static_cast<size_t>(s.y_numel())), dx(static_cast<size_t>(s.x_numel())),
      dw(static_cast<size_t>(s.w_numel()));
  const double flops = 2.0 * s.n * s.c_out * s.h_out() * s.w_out() * s.c_in * s.kh * s.kw;
  const std::string shape = fmt::format("128x{}x{}x{} 3x3", channels, size, size);
  const double fwd = median_ms(repeats, [&] { cpu::conv2d_forward<float>(ctx, s, x.data(), w.data(), y.data()); });
  print_row("conv2d forward", shape, fwd, flops / fwd / 1e6, "GFLOP/s", c.gflops);
  const double bwd_data = median_ms(repeats, [&] {
    cpu::conv2d_backward_data<float>(ctx, s, dy.data(), w.data(), dx.data(), GradMode::assign);
  });
  print_row("conv2d backward data", shape, bwd_data, flops / bwd_data / 1e6, "GFLOP/s", c.gflops);
  const double bwd_weight = median_ms(repeats, [&] {
    std::fill(dw.begin(), dw.end(), 0.f);
    cpu::conv2d_backward_weight<float>(ctx, s, x.data(), dy.data(), dw.data());
  });
  print_row("conv2d backward weight", shape, bwd_weight, flops / bwd_weight / 1e6, "GFLOP/s", c.gflops);
}

void bench_bn_rrelu(Context& ctx, Rng& rng, int repeats, const Ceilings& c) {
  const ChannelShape s{128, 16, 32 * 32};
  const std::vector<float> x = random_floats(rng, s.numel()), dy = random_floats(rng, s.numel());
  std::vector<float> gamma(16, 1.f), beta(16, 0.1f), slope(16, 0.5f), rm(16, 0.f), rv(16, 1.f), mean(16),
      invstd(16), y(static_cast<size_t>(s.numel())), dx(static_cast<size_t>(s.numel())), dgamma(16), dbeta(16),
      dslope(16);
  const double bytes = static_cast<double>(s.numel()) * sizeof(float);
  const std::string shape = "128x16x32x32";
  const double fwd = median_ms(repeats, [&] {
    cpu::bn_rrelu_forward_train<float>(ctx, s, x.data(), gamma.data(), beta.data(), slope.data(), rm.data(),
                                       rv.data(), 0.1, 1e-5, y.data(), mean.data(), invstd.data());
  });
  // The least traffic a forward can have: read x, write y.
  print_row("bn_rrelu forward", shape, fwd, 2 * bytes / fwd / 1e6, "GB/s", c.gbps);
  const double bwd = median_ms(repeats, [&] {
    cpu::bn_rrelu_backward<float>(ctx, s, x.data(), dy.data(), gamma.data(), beta.data(), slope.data(),
                                  mean.data(), invstd.data(), dx.data(), GradMode::assign, dgamma.data(),
                                  dbeta.data(), dslope.data());
  });
  // Read x and dy, write dx.
  print_row("bn_rrelu backward", shape, bwd, 3 * bytes / bwd / 1e6, "GB/s", c.gbps);
}

// A residual block's tail, y = RReLU(BN(x) + r): fused, then the unfused
// sequence (batch_norm, add, rrelu; backward rrelu, the add's two gradient
// copies, batch_norm), each against the least traffic of the fused op.
void bench_bn_add_act(Context& ctx, Rng& rng, int repeats, const Ceilings& c) {
  const ChannelShape s{128, 16, 32 * 32};
  const size_t n = static_cast<size_t>(s.numel());
  const std::vector<float> x = random_floats(rng, s.numel()), r = random_floats(rng, s.numel()),
                           dy = random_floats(rng, s.numel());
  std::vector<float> gamma(16, 1.f), beta(16, 0.1f), slope(16, 0.5f), rm(16, 0.f), rv(16, 1.f), mean(16),
      invstd(16), y(n), dx(n), dr(n), bn(n), z(n), dz(n), dbn(n), dgamma(16), dbeta(16), dslope(16);
  const double bytes = static_cast<double>(n) * sizeof(float);
  const std::string shape = "128x16x32x32";
  for (const bool fused : {true, false}) {
    const std::string name = fused ? "bn_add_act" : "unfused tail";
    const double fwd = median_ms(repeats, [&] {
      if (fused) {
        cpu::bn_add_act_forward_train<float>(ctx, s, x.data(), r.data(), gamma.data(), beta.data(), slope.data(),
                                             rm.data(), rv.data(), 0.1, 1e-5, y.data(), mean.data(), invstd.data());
        return;
      }
      cpu::batch_norm_forward_train<float>(ctx, s, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), 0.1,
                                           1e-5, bn.data(), mean.data(), invstd.data());
      cpu::add_forward<float>(ctx, s.numel(), bn.data(), r.data(), z.data());
      cpu::rrelu_forward<float>(ctx, s, z.data(), slope.data(), y.data());
    });
    // Read x and r, write y.
    print_row(name + " fwd", shape, fwd, 3 * bytes / fwd / 1e6, "GB/s", c.gbps);
    const double bwd = median_ms(repeats, [&] {
      if (fused) {
        cpu::bn_add_act_backward<float>(ctx, s, x.data(), r.data(), dy.data(), gamma.data(), beta.data(),
                                        slope.data(), mean.data(), invstd.data(), dx.data(), GradMode::assign,
                                        dr.data(), GradMode::assign, dgamma.data(), dbeta.data(), dslope.data());
        return;
      }
      cpu::rrelu_backward<float>(ctx, s, z.data(), dy.data(), slope.data(), dz.data(), GradMode::assign,
                                 dslope.data());
      cpu::copy_grad<float>(ctx, s.numel(), dz.data(), dbn.data(), GradMode::assign);
      cpu::copy_grad<float>(ctx, s.numel(), dz.data(), dr.data(), GradMode::assign);
      cpu::batch_norm_backward<float>(ctx, s, x.data(), dbn.data(), gamma.data(), mean.data(), invstd.data(),
                                      dx.data(), GradMode::assign, dgamma.data(), dbeta.data());
    });
    // Read x, r and dy, write dx and dr.
    print_row(name + " bwd", shape, bwd, 5 * bytes / bwd / 1e6, "GB/s", c.gbps);
  }
}

}  // namespace

int main(int argc, char** argv) try {
  CommandLine cl("bench_cpu_kernels", "CPU kernels at ResNet-20 shapes against this machine's ceilings.",
                 {{"threads", "N", "CPU threads", "all cores"}, {"repeats", "N", "timed repeats (median)", "7"}});
  cl.parse(std::vector<std::string>(argv + 1, argv + argc));
  if (cl.help_requested()) {
    std::fputs(cl.usage().c_str(), stdout);
    return 0;
  }
  ContextOptions o;
  o.device = Device::cpu;
  o.threads = static_cast<int>(cl.integer("threads", 0, 0, 1024));
  Context ctx(o);
  const int repeats = static_cast<int>(cl.integer("repeats", 7, 1, 10000));
  Rng rng(3);

  const Ceilings c = measure_ceilings(ctx, rng, repeats);
  std::printf("CPU, %d threads: GEMM 1024^3 %.1f GFLOP/s, memcpy %.1f GB/s (read + write)\n", ctx.pool().size(),
              c.gflops, c.gbps);
  std::printf("%-22s %-22s %12s %17s %6s\n", "kernel", "shape", "median", "rate", "of ceiling");
  for (const auto& [channels, size] : {std::pair<int64_t, int64_t>{16, 32}, {32, 16}, {64, 8}})
    bench_conv(ctx, rng, repeats, c, channels, size);
  bench_bn_rrelu(ctx, rng, repeats, c);
  bench_bn_add_act(ctx, rng, repeats, c);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_cpu_kernels: %s\n", e.what());
  return 1;
}
