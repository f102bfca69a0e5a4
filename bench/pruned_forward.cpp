// Forward time of a network before and after pruning, at batch 128 and 1,
// on the CPU or the GPU, reported as a ratio measured in the same run.
//
//   bench_pruned_forward [--device cpu|cuda] [--model-file F --gamma X]
//                        [--model resnet56 --prune-fraction 0.5] [--repeats N]
//
// Without a model file, a randomly initialised network has the given
// fraction of its slopes set small (the dead channels spread evenly), which
// shows how time follows the remaining FLOPs. Both networks are validated
// first: the pruned logits must equal the masked network's.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "apps/cli.h"
#include "apps/cost_report.h"
#include "engine/context.h"
#include "engine/init.h"
#include "engine/tensor_util.h"
#include "models/model_file.h"
#include "models/prune.h"

using namespace rotor;

namespace {

double median_ms(Context& ctx, Model& m, const Tensor& x, int repeats) {
  std::vector<double> t;
  for (int r = 0; r < repeats + 2; ++r) {  // two warm-up runs
    ctx.synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    Graph g(ctx, false);
    m.forward(g, make_var(x));
    ctx.synchronize();
    if (r >= 2) t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) try {
  CommandLine cl("bench_pruned_forward", "Forward time before and after pruning.",
                 {{"device", "cpu|cuda", "where to run", "auto"},
                  {"model-file", "FILE", "a trained RReLU model file", ""},
                  {"gamma", "X", "threshold for --model-file", "0.05"},
                  {"model", "NAME", "architecture when no file is given", "resnet56"},
                  {"prune-fraction", "F", "share of slopes made small when no file is given", "0.5"},
                  {"repeats", "N", "timed repeats (median)", "10"},
                  {"threads", "N", "CPU threads", "all cores"}});
  cl.parse(std::vector<std::string>(argv + 1, argv + argc));
  if (cl.help_requested()) {
    std::fputs(cl.usage().c_str(), stdout);
    return 0;
  }
  ContextOptions o;
  o.device = resolve_device(cl.text("device", "auto"));
  o.threads = static_cast<int>(cl.integer("threads", 0, 0, 1024));
  o.seed = 7;
  Context ctx(o);
  const int repeats = static_cast<int>(cl.integer("repeats", 10, 1, 10000));

  std::unique_ptr<Model> model;
  double gamma = cl.number("gamma", 0.05, 0, 1e30);
  if (cl.has("model-file")) {
    model = load_model_file(ctx, cl.text("model-file"));
  } else {
    ModelSpec spec;
    spec.arch = cl.text("model", "resnet56");
    spec.in_channels = 3;
    spec.height = spec.width = 32;
    spec.classes = 10;
    model = build_model(ctx, spec);
    const double fraction = cl.number("prune-fraction", 0.5, 0, 1);
    for (auto& [name, p] : model->named_slopes()) {
      std::vector<float> v = host_values(ctx, p->value());
      for (size_t i = 0; i < v.size(); ++i)  // every k-th channel small: an even spread
        v[i] = std::fmod(static_cast<double>(i) * fraction, 1.0) + fraction >= 1.0 - 1e-9 ? 0.001f : 1.0f;
      copy(ctx, from_host(ctx, p->value().shape(), v), p->value());
    }
    gamma = 0.01;
  }
  const ModelSpec& s = model->spec();
  std::unique_ptr<Model> pruned = prune_model(ctx, *model, gamma);
  mask_slopes(ctx, *model, gamma);

  // Validate: the pruned network computes the masked one's logits.
  {
    std::vector<float> xv(static_cast<size_t>(4 * s.in_channels * s.height * s.width));
    Rng rng(3);
    for (float& v : xv) v = static_cast<float>(rng.normal());
    const Tensor x = from_host(ctx, {4, s.in_channels, s.height, s.width}, xv);
    Graph g1(ctx, false), g2(ctx, false);
    const auto a = host_values(ctx, model->forward(g1, make_var(x))->value);
    const auto b = host_values(ctx, pruned->forward(g2, make_var(x))->value);
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]) / (1e-3 + std::fabs(a[i])));
    ROTOR_CHECK(worst < 1e-3, "validation failed: pruned and masked logits differ (relative {:.2g})", worst);
  }

  const CostTotals before = totals(model->layer_costs()), after = totals(pruned->layer_costs());
  fmt::print("{} on {}: gamma {:g}, FLOPs {} -> {} ({:.1f}%), params {} -> {}\n", s.describe(),
             device_name(ctx.device()), gamma, mega(before.flops), mega(after.flops),
             100.0 * after.flops / before.flops, with_commas(before.params), with_commas(after.params));
  fmt::print("{:>6} {:>14} {:>14} {:>9}\n", "batch", "original ms", "pruned ms", "speed-up");
  for (int64_t batch : {128, 1}) {
    std::vector<float> xv(static_cast<size_t>(batch * s.in_channels * s.height * s.width), 0.5f);
    const Tensor x = from_host(ctx, {batch, s.in_channels, s.height, s.width}, xv);
    const double t0 = median_ms(ctx, *model, x, repeats), t1 = median_ms(ctx, *pruned, x, repeats);
    fmt::print("{:>6} {:>14.3f} {:>14.3f} {:>8.2f}x\n", batch, t0, t1, t0 / t1);
  }
  return 0;
} catch (const Error& e) {
  std::fprintf(stderr, "bench_pruned_forward: error: %s\n", e.what());
  return 1;
}
