// rotor report: the figures of a run, each as PNG and SVG (apps/report_figures.h):
// the slope histogram (initial vs trained, the paper's Fig. 2 and 5), the
// gamma curve of `rotor prune`'s sweep, the training curves of metrics.jsonl
// and, for residual networks, the filter-path lengths (Fig. 6); the plotted
// numbers as CSV. Every input is read and checked before the first file is
// written.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/cost_report.h"
#include "apps/report_figures.h"
#include "apps/report_inputs.h"
#include "apps/slope_stats.h"
#include "engine/context.h"
#include "engine/tensor_file.h"
#include "models/filter_paths.h"
#include "models/model_file.h"
#include "models/prune.h"

namespace rotor {
namespace {

namespace fs = std::filesystem;

void write_csv(const std::string& path, const std::string& header, const std::vector<std::vector<double>>& columns) {
  {
    std::ofstream out(path + ".tmp");
    out << header << "\n";
    for (size_t r = 0; r < columns[0].size(); ++r) {
      for (size_t c = 0; c < columns.size(); ++c) out << (c ? "," : "") << fmt::format("{:.9g}", columns[c][r]);
      out << "\n";
    }
    out.close();
    if (!out.good()) {
      std::remove((path + ".tmp").c_str());
      fail("cannot write {}", path);
    }
  }
  fs::rename(path + ".tmp", path);
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec) && !ec;
}

std::unique_ptr<Model> load_model(Context& ctx, const TensorFile& file, const std::string& path) {
  std::unique_ptr<Model> model = build_model(ctx, read_model_spec(file, path));
  load_module_state(ctx, *model, file, path);
  return model;
}

// FLOPs and parameters the network keeps at each gamma of the sweep, from the
// pruned network's own cost rows (models/cost.h), so the curve counts what
// `rotor prune` would build: pruned by the sweep's criterion.
GammaCurve gamma_curve(Context& ctx, Model& swept, const PruneSweep& sweep) {
  GammaCurve c;
  c.chosen = sweep.gamma;
  c.base_accuracy = sweep.base_accuracy;
  c.tolerance = sweep.tolerance;
  c.by = sweep.by;
  c.scores = static_cast<int64_t>(prune_scores(ctx, swept, sweep.by).size());
  const CostTotals full = totals(swept.layer_costs());
  for (const GammaTrial& t : sweep.trials) {
    const CostTotals kept = totals(prune_model(ctx, swept, t.gamma, sweep.by)->layer_costs());
    c.points.push_back({t.gamma, t.accuracy, t.pruned, static_cast<double>(kept.flops) / static_cast<double>(full.flops),
                        static_cast<double>(kept.params) / static_cast<double>(full.params)});
  }
  return c;
}

}  // namespace

int cmd_report(const Args& args) {
  CommandLine cl(
      "report",
      "Writes into --out, each figure as PNG and SVG:\n"
      "  slopes        histogram of |b| (log scale), initial vs trained, gamma marked   + slopes.csv\n"
      "  gamma_curve   accuracy and FLOPs kept against gamma (rotor prune's sweep, by   + gamma_curve.csv\n"
      "                its --by: slopes, BN scales or their product)\n"
      "  training      loss, accuracy and learning rate against epoch (metrics.jsonl)\n"
      "  filter_paths  distribution of filter-path lengths (residual networks), pruned  + filter_paths.csv\n"
      "                at gamma by prune.json's --by (else the pruned model's, else slope)\n"
      "Every figure names the model, data set, epoch and gamma.",
      {
          {"model-file", "FILE", "a trained (or pruned) model file", ""},
          {"initial", "FILE", "the model before training", "initial.rotor beside FILE, if present"},
          {"gamma", "X", "the pruning threshold to mark (and count filter paths with)", "the one in prune.json"},
          {"prune-json", "FILE", "rotor prune's result: gamma and its sweep",
           "prune/prune.json or prune.json beside FILE, if it is about FILE"},
          {"metrics", "FILE", "the training run's metrics", "metrics.jsonl beside FILE, else beside the model FILE was pruned from"},
          {"bins", "N", "slope histogram bins", "60"},
          {"out", "DIR", "output folder", "<model file's folder>/report"},
      });
  if (!parse_or_help(cl, args)) return 0;
  cl.required("model-file");
  const std::string path = cl.text("model-file");
  const fs::path folder = fs::path(path).parent_path();
  const std::string out = cl.text("out", (folder / "report").string());
  const int64_t bins = cl.integer("bins", 60, 2, 10000);

  // ---- read and check every input -------------------------------------------
  Context ctx;
  const TensorFile file = read_tensor_file(path);
  std::unique_ptr<Model> model = load_model(ctx, file, path);
  const ModelSpec& spec = model->spec();
  FigureCaption caption;
  caption.model = spec.describe();
  caption.provenance = read_provenance(file.header, path);

  std::optional<PruneSweep> sweep;
  if (cl.has("prune-json")) {
    sweep = read_prune_json(cl.text("prune-json"));
  } else {
    for (const fs::path& candidate : {folder / "prune" / "prune.json", folder / "prune.json"}) {
      if (!fs::exists(candidate)) continue;
      PruneSweep s = read_prune_json(candidate.string());
      if (same_file(s.model_file, path) || same_file(s.pruned_model, path)) {
        sweep = std::move(s);
        break;
      }
      fmt::print("{} is about {}, not {}: not used\n", candidate.string(), s.model_file, path);
    }
  }
  if (cl.has("gamma")) {
    caption.gamma = cl.number("gamma", 0, 0, 1e30);
    caption.gamma_source = "given with --gamma";
  } else if (sweep) {
    caption.gamma = sweep->gamma;
    caption.gamma_source = sweep->chosen ? "chosen by rotor prune" : "given to rotor prune";
  } else if (caption.provenance.pruned_gamma) {
    caption.gamma = caption.provenance.pruned_gamma;
    caption.gamma_source = "this model was pruned with it";
  }

  std::string metrics_path = cl.text("metrics", "");
  if (metrics_path.empty()) {
    std::vector<fs::path> dirs = {folder};
    if (!caption.provenance.pruned_from.empty()) dirs.push_back(fs::path(caption.provenance.pruned_from).parent_path());
    for (const fs::path& d : dirs)
      if (metrics_path.empty() && fs::exists(d / "metrics.jsonl")) metrics_path = (d / "metrics.jsonl").string();
  }
  std::vector<EpochMetrics> metrics;
  if (!metrics_path.empty()) metrics = read_metrics(metrics_path);

  const std::vector<float> trained = all_slopes(ctx, *model);
  caption.has_slopes = !trained.empty();
  // What gamma is a threshold on: the sweep's criterion, else the one this
  // model was pruned by, else slopes. A ReLU network has a gamma only by
  // batch-norm scale.
  caption.by = sweep                              ? sweep->by
               : caption.provenance.pruned_by     ? *caption.provenance.pruned_by
                                                  : PruneBy::slope;
  const bool prunable = !trained.empty() || caption.by == PruneBy::bn_scale;
  std::vector<float> initial;
  std::string initial_path = cl.text("initial", "");
  if (initial_path.empty() && fs::exists(folder / "initial.rotor") && fs::path(path).filename() != "initial.rotor" &&
      spec.live.is_null())
    initial_path = (folder / "initial.rotor").string();
  if (!initial_path.empty() && !trained.empty()) {
    const TensorFile init_file = read_tensor_file(initial_path);
    std::unique_ptr<Model> init = load_model(ctx, init_file, initial_path);
    ROTOR_CHECK(init->spec().arch == spec.arch, "--initial {} holds a {}, not a {}", initial_path,
                init->spec().describe(), spec.describe());
    initial = all_slopes(ctx, *init);
  }

  std::optional<GammaCurve> curve;
  std::string no_curve;
  if (!sweep) {
    no_curve = trained.empty() ? "no prune.json (run rotor prune --by bn-scale, or give --prune-json)"
                               : "no prune.json (run rotor prune, or give --prune-json)";
  } else if (!prunable) {
    no_curve = fmt::format("{} prunes by {}, and there are no slopes", sweep->path, prune_by_name(sweep->by));
  } else if (!sweep->chosen || sweep->trials.empty()) {
    no_curve = fmt::format("{} has no sweep (gamma was given to rotor prune)", sweep->path);
  } else if (same_file(sweep->model_file, path)) {
    curve = gamma_curve(ctx, *model, *sweep);
  } else if (fs::exists(sweep->model_file)) {
    const TensorFile swept_file = read_tensor_file(sweep->model_file);
    curve = gamma_curve(ctx, *load_model(ctx, swept_file, sweep->model_file), *sweep);
  } else {
    no_curve = fmt::format("{} names {}, which is gone", sweep->path, sweep->model_file);
  }

  const bool residual = spec.arch.rfind("resnet", 0) == 0 || spec.arch.rfind("wrn-", 0) == 0;
  std::vector<double> path_dist;
  size_t path_blocks = 0;
  if (residual) {
    std::unique_ptr<Model> counted;
    Model* m = model.get();
    if (caption.gamma && prunable) {
      counted = prune_model(ctx, *model, *caption.gamma, caption.by);
      m = counted.get();
    }
    const std::vector<BlockFilters> blocks = block_filters(*m);
    path_blocks = blocks.size();
    path_dist = path_length_distribution(blocks);
  }

  // ---- write -----------------------------------------------------------------
  fs::create_directories(out);
  const std::string dir = (fs::path(out) / "").string();
  std::vector<std::string> written;
  auto figure = [&](const std::string& name, int w, int h, const std::function<void(Painter&)>& draw) {
    for (const std::string& f : write_figure(dir + name, w, h, draw)) written.push_back(f);
  };

  if (trained.empty()) {
    fmt::print("{} is a ReLU network ({}): it has no RReLU slopes, so there is no slope histogram\n", path,
               spec.describe());
  } else {
    // Gamma is marked among the slopes only when it is a threshold on them.
    const std::optional<double> slope_gamma = caption.by == PruneBy::slope ? caption.gamma : std::nullopt;
    const SlopeBins sb = bin_slopes(trained, initial, slope_gamma, bins);
    figure("slopes", slope_figure_width, slope_figure_height,
           [&](Painter& p) { draw_slope_histogram(p, sb, spec.arch, caption); });
    std::vector<std::vector<double>> columns = {std::vector<double>(sb.edges.begin(), sb.edges.end() - 1),
                                                std::vector<double>(sb.edges.begin() + 1, sb.edges.end())};
    std::string header = "abs_low,abs_high";
    if (!sb.initial.empty()) columns.push_back(sb.initial), header += ",initial";
    columns.push_back(sb.trained), header += ",trained";
    write_csv(dir + "slopes.csv", header, columns);
    written.push_back(dir + "slopes.csv");
    fmt::print("{}\n", summarize_slopes(trained).describe());
  }

  if (curve) {
    figure("gamma_curve", gamma_figure_width, gamma_figure_height,
           [&](Painter& p) { draw_gamma_curve(p, *curve, caption); });
    std::vector<std::vector<double>> columns(5);
    for (const GammaPoint& q : curve->points) {
      columns[0].push_back(q.gamma);
      columns[1].push_back(static_cast<double>(q.pruned));
      columns[2].push_back(q.accuracy);
      columns[3].push_back(q.flops_kept);
      columns[4].push_back(q.params_kept);
    }
    write_csv(dir + "gamma_curve.csv", "gamma,pruned,accuracy,flops_kept,params_kept", columns);
    written.push_back(dir + "gamma_curve.csv");
  } else {
    fmt::print("no gamma curve: {}\n", no_curve);
  }

  if (!metrics.empty())
    figure("training", training_figure_width, training_figure_height,
           [&](Painter& p) { draw_training_curves(p, metrics, caption); });
  else
    fmt::print("no training curves: no metrics.jsonl beside {} (give --metrics)\n", path);

  if (residual) {
    std::vector<double> lengths;
    double mean = 0;
    for (size_t l = 0; l < path_dist.size(); ++l) {
      lengths.push_back(static_cast<double>(l));
      mean += static_cast<double>(l) * path_dist[l];
    }
    write_csv(dir + "filter_paths.csv", "length,fraction_of_paths", {lengths, path_dist});
    figure("filter_paths", slope_figure_width, slope_figure_height,
           [&](Painter& p) { draw_filter_paths(p, path_dist, path_blocks, spec.arch, caption); });
    written.push_back(dir + "filter_paths.csv");
    fmt::print("filter paths: {} blocks, mean length {:.1f} filters, longest {}\n", path_blocks, mean,
               path_dist.size() - 1);
  }

  if (written.empty()) {
    fmt::print("wrote nothing: {} has no slopes, no metrics.jsonl and no residual blocks\n", path);
  } else {
    fmt::print("wrote {} files:\n", written.size());
    for (const std::string& f : written) fmt::print("  {}\n", f);
  }
  return 0;
}

}  // namespace rotor
