// rotor report: PNG histograms of the slopes (initial vs trained, the
// paper's Fig. 2 and 5) and of the filter-path lengths of residual networks
// (Fig. 6), with the plotted numbers as CSV.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/plot.h"
#include "apps/slope_stats.h"
#include "engine/context.h"
#include "models/filter_paths.h"
#include "models/model_file.h"
#include "models/prune.h"

namespace rotor {
namespace {

constexpr Rgb blue = {31, 119, 180}, orange = {255, 127, 14};

std::vector<double> histogram(const std::vector<float>& values, const std::vector<double>& edges) {
  std::vector<double> counts(edges.size() - 1, 0.0);
  for (float v : values) {
    const auto it = std::upper_bound(edges.begin(), edges.end(), static_cast<double>(v));
    size_t bin = static_cast<size_t>(std::max<std::ptrdiff_t>(0, it - edges.begin() - 1));
    counts[std::min(bin, counts.size() - 1)] += 1;
  }
  return counts;
}

void write_csv(const std::string& path, const std::string& header, const std::vector<std::vector<double>>& columns) {
  std::ofstream out(path + ".tmp");
  out << header << "\n";
  for (size_t r = 0; r < columns[0].size(); ++r) {
    for (size_t c = 0; c < columns.size(); ++c) out << (c ? "," : "") << fmt::format("{:.9g}", columns[c][r]);
    out << "\n";
  }
  ROTOR_CHECK(out.good(), "cannot write {}", path);
  out.close();
  std::filesystem::rename(path + ".tmp", path);
}

}  // namespace

int cmd_report(const Args& args) {
  CommandLine cl("report",
                 "Writes slopes.png/.csv (slope histogram, initial vs trained) and, for residual networks,\n"
                 "filter_paths.png/.csv (distribution of filter-path lengths, computed exactly).",
                 {
                     {"model-file", "FILE", "a trained (or pruned) model file", ""},
                     {"initial", "FILE", "the model before training", "initial.rotor beside FILE, if present"},
                     {"gamma", "X", "count only filters with |slope| >= X in the path lengths", ""},
                     {"bins", "N", "histogram bins", "60"},
                     {"out", "DIR", "output folder", "<model file's folder>/report"},
                 });
  if (!parse_or_help(cl, args)) return 0;
  ROTOR_CHECK(cl.has("model-file"), "--model-file is required");
  const std::string path = cl.text("model-file");
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  const std::string out = cl.text("out", (folder / "report").string());
  const int64_t bins = cl.integer("bins", 60, 2, 10000);
  std::string initial_path = cl.text("initial", "");
  if (initial_path.empty() && std::filesystem::exists(folder / "initial.rotor") &&
      std::filesystem::path(path).filename() != "initial.rotor")
    initial_path = (folder / "initial.rotor").string();

  Context ctx;
  std::unique_ptr<Model> model = load_model_file(ctx, path);
  std::filesystem::create_directories(out);
  const std::vector<float> trained = all_slopes(ctx, *model);
  std::vector<std::string> written;

  if (!trained.empty()) {
    std::vector<float> initial;
    if (!initial_path.empty()) {
      std::unique_ptr<Model> init = load_model_file(ctx, initial_path);
      ROTOR_CHECK(init->spec().arch == model->spec().arch, "--initial {} holds a {}, not a {}", initial_path,
                  init->spec().describe(), model->spec().describe());
      initial = all_slopes(ctx, *init);
    }
    double lo = *std::min_element(trained.begin(), trained.end()), hi = *std::max_element(trained.begin(), trained.end());
    for (float v : initial) lo = std::min(lo, double(v)), hi = std::max(hi, double(v));
    if (hi - lo < 1e-6) hi = lo + 1e-6;
    std::vector<double> edges;
    for (int64_t i = 0; i <= bins; ++i) edges.push_back(lo + (hi - lo) * static_cast<double>(i) / bins);
    BarChart chart;
    chart.title = fmt::format("RReLU slopes of {} ({} slopes)", model->spec().arch, trained.size());
    chart.x_label = "slope b";
    chart.y_label = "number of slopes";
    chart.bin_edges = edges;
    std::vector<std::vector<double>> columns = {std::vector<double>(edges.begin(), edges.end() - 1),
                                                std::vector<double>(edges.begin() + 1, edges.end())};
    std::string header = "bin_low,bin_high";
    if (!initial.empty()) {
      chart.series.push_back({"initial", histogram(initial, edges), orange});
      columns.push_back(chart.series.back().values);
      header += ",initial";
    }
    chart.series.push_back({"trained", histogram(trained, edges), blue});
    columns.push_back(chart.series.back().values);
    header += ",trained";
    render(chart).write_png(out + "/slopes.png");
    write_csv(out + "/slopes.csv", header, columns);
    written.push_back("slopes.png");
    written.push_back("slopes.csv");
    fmt::print("{}\n", summarize_slopes(trained).describe());
  } else {
    fmt::print("{} has no RReLU slopes: no slope histogram\n", path);
  }

  const bool residual = model->spec().arch.rfind("resnet", 0) == 0 || model->spec().arch.rfind("wrn-", 0) == 0;
  if (residual) {
    std::unique_ptr<Model> counted;
    Model* m = model.get();
    if (cl.has("gamma")) {
      counted = prune_model(ctx, *model, cl.number("gamma", 0, 0, 1e30));
      m = counted.get();
    }
    const std::vector<BlockFilters> blocks = block_filters(*m);
    const std::vector<double> dist = path_length_distribution(blocks);
    std::vector<double> lengths, probability;
    double mean = 0;
    for (size_t l = 0; l < dist.size(); ++l) {
      lengths.push_back(static_cast<double>(l));
      probability.push_back(dist[l]);
      mean += static_cast<double>(l) * dist[l];
    }
    write_csv(out + "/filter_paths.csv", "length,fraction_of_paths", {lengths, probability});
    // Plot in bins of equal width so the shape stays readable for long paths.
    const size_t width = std::max<size_t>(1, (dist.size() + 79) / 80);
    std::vector<double> edges, mass;
    for (size_t l = 0; l < dist.size(); l += width) {
      edges.push_back(static_cast<double>(l));
      double s = 0;
      for (size_t k = l; k < std::min(dist.size(), l + width); ++k) s += dist[k];
      mass.push_back(s);
    }
    edges.push_back(static_cast<double>(dist.size()));
    BarChart chart;
    chart.title = fmt::format("Filter-path lengths of {} ({} blocks, 2^{} paths)", m->spec().arch, blocks.size(),
                              blocks.size());
    chart.x_label = "filters along a path";
    chart.y_label = "fraction of paths";
    chart.bin_edges = edges;
    chart.series.push_back({fmt::format("mean {:.1f}", mean), mass, blue});
    render(chart).write_png(out + "/filter_paths.png");
    written.push_back("filter_paths.png");
    written.push_back("filter_paths.csv");
    fmt::print("filter paths: {} blocks, mean length {:.1f} filters, longest {}\n", blocks.size(), mean, dist.size() - 1);
  }
  fmt::print("wrote {} in {}\n", fmt::join(written, ", "), out);
  return 0;
}

}  // namespace rotor
