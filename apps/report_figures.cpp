#include "apps/report_figures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace rotor {

namespace {

constexpr Rgb blue = {31, 119, 180}, orange = {255, 127, 14}, red = {214, 39, 40}, green = {44, 160, 44},
              grey = {110, 110, 110}, black = {0, 0, 0}, white = {255, 255, 255};
constexpr double bar_alpha = 0.5;
constexpr Rgb gamma_color = red;

std::string percent(double fraction) { return fmt::format("{:.1f}%", 100 * fraction); }

// Small squares on the data points, when there are few enough to tell apart.
void markers(Painter& p, const std::vector<Point>& pts, Rgb color) {
  if (pts.size() > 60) return;
  for (const Point& q : pts) p.rect(q.x - 3, q.y - 3, q.x + 3, q.y + 3, color, 1, "point");
}

// A vertical gamma marker across a panel (role "gamma": tests find it).
void gamma_line(Painter& p, const Panel& panel, double gamma) {
  const double x = panel.x.map(gamma);
  p.line(x, panel.top, x, panel.bottom, gamma_color, 2, true, "gamma");
}

// Lines of text beside the gamma line from y down, right of it where they
// fit, else left of it.
void gamma_notes(Painter& p, const Panel& panel, double gamma, double y, const std::vector<std::string>& lines) {
  const double x = panel.x.map(gamma);
  double widest = 0;
  for (const std::string& s : lines) widest = std::max(widest, text_width(s));
  const bool right = x + 8 + widest <= panel.right;
  for (const std::string& s : lines) {
    p.text(right ? x + 8 : x - 8, y, s, gamma_color, 2, right ? Anchor::start : Anchor::end);
    y += 22;
  }
}

// What a criterion scores, as the gamma curve names it: "slopes |b|".
struct ScoreName {
  const char* plural;  // "slopes"
  const char* symbol;  // "|b|"
};
ScoreName score_name(PruneBy by) {
  switch (by) {
    case PruneBy::slope: return {"slopes", "|b|"};
    case PruneBy::bn_scale: return {"BN scales", "|\xCE\xB3_BN|"};
    case PruneBy::product: return {"channel scores", "|\xCE\xB3_BN * b|"};
  }
  return {"scores", "score"};
}

}  // namespace

// ---- slope histogram ---------------------------------------------------------

SlopeBins bin_slopes(const std::vector<float>& trained, const std::vector<float>& initial, std::optional<double> gamma,
                     int64_t bins) {
  ROTOR_CHECK(bins >= 1, "slope histogram: {} bins", bins);
  SlopeBins b;
  b.gamma = gamma;
  b.count = static_cast<int64_t>(trained.size());
  b.initial_count = static_cast<int64_t>(initial.size());
  double lo = INFINITY, hi = 0;
  for (const std::vector<float>* set : {&trained, &initial})
    for (float v : *set) {
      const double m = std::fabs(static_cast<double>(v));
      if (m > 0) lo = std::min(lo, m), hi = std::max(hi, m);
    }
  if (gamma && *gamma > 0) lo = std::min(lo, *gamma), hi = std::max(hi, *gamma);
  if (hi == 0) lo = 1e-3, hi = 1;  // every slope is 0
  lo = std::max(lo, hi * std::pow(10.0, -slope_decades_max));
  b.x = log_axis(lo, hi);
  b.x.p0 = slope_plot_left;
  b.x.p1 = slope_plot_right;
  const double l = std::log10(b.x.lo), h = std::log10(b.x.hi);
  for (int64_t i = 0; i <= bins; ++i) b.edges.push_back(std::pow(10.0, l + (h - l) * static_cast<double>(i) / bins));
  auto count = [&](const std::vector<float>& values, int64_t* below) {
    std::vector<double> counts(bins, 0.0);
    for (float v : values) {
      const double m = std::fabs(static_cast<double>(v));
      if (m < b.x.lo && below) ++*below;
      const double t = m > 0 ? (std::log10(m) - l) / (h - l) : 0.0;
      counts[static_cast<size_t>(std::clamp<double>(std::floor(t * static_cast<double>(bins)), 0, bins - 1))] += 1;
    }
    return counts;
  };
  b.trained = count(trained, &b.trained_below);
  if (!initial.empty()) b.initial = count(initial, nullptr);
  for (float v : trained) {
    b.negative += v < 0;
    b.pruned += gamma && std::fabs(static_cast<double>(v)) < *gamma;
  }
  return b;
}

void draw_slope_histogram(Painter& p, const SlopeBins& b, const std::string& arch, const FigureCaption& caption) {
  draw_title(p, slope_figure_width,
             fmt::format("RReLU slopes |b| of {}: {}", arch, b.initial.empty() ? "trained" : "initial and trained"),
             caption.subtitle());
  Panel panel;
  panel.left = slope_plot_left;
  panel.right = slope_plot_right;
  panel.top = slope_plot_top;
  panel.bottom = slope_plot_bottom;
  double y_max = 0;
  for (const std::vector<double>* s : {&b.trained, &b.initial})
    for (double v : *s) y_max = std::max(y_max, v);
  panel.x = b.x;
  panel.y = linear_axis(0, std::max(1.0, y_max * 1.3), true);  // headroom for the legend
  panel.place();
  panel.x_label = fmt::format("|b|, log scale ({} of {} trained slopes negative)", b.negative, b.count);
  if (b.trained_below > 0) panel.x_label += fmt::format("; first bin: |b| < {}", b.x.label(b.x.lo));
  panel.y_label = "number of slopes";
  draw_axes(p, panel);

  // Both sets translucent, initial under trained: where they overlap the
  // colour is a third one, which the legend names ("both"); an opaque
  // outline in each set's colour keeps its shape traceable through it.
  auto bars = [&](const std::vector<double>& counts, Rgb color, const std::string& role) {
    for (size_t i = 0; i < counts.size(); ++i)
      if (counts[i] > 0)
        p.rect(panel.x.map(b.edges[i]), panel.y.map(counts[i]), panel.x.map(b.edges[i + 1]), panel.bottom, color,
               bar_alpha, role);
  };
  std::vector<LegendEntry> legend;
  if (!b.initial.empty()) {
    bars(b.initial, orange, "bar-initial");
    legend.push_back({fmt::format("initial ({} slopes)", b.initial_count), orange, LegendEntry::Kind::box, bar_alpha});
  }
  bars(b.trained, blue, "bar-trained");
  legend.push_back({fmt::format("trained ({} slopes)", b.count), blue, LegendEntry::Kind::box, bar_alpha});
  bool overlap = false;
  for (size_t i = 0; i < b.initial.size(); ++i) overlap = overlap || (b.initial[i] > 0 && b.trained[i] > 0);
  if (overlap) legend.push_back({"both (bars overlap)", over(over(white, orange, bar_alpha), blue, bar_alpha)});
  auto outline = [&](const std::vector<double>& counts, Rgb color, const std::string& role) {
    std::vector<Point> pts = {{panel.x.map(b.edges.front()), panel.bottom}};
    for (size_t i = 0; i < counts.size(); ++i) {
      const double y = panel.y.map(counts[i]);
      pts.push_back({panel.x.map(b.edges[i]), y});
      pts.push_back({panel.x.map(b.edges[i + 1]), y});
    }
    pts.push_back({panel.x.map(b.edges.back()), panel.bottom});
    p.polyline(pts, color, 1.5, role);
  };
  if (!b.initial.empty()) outline(b.initial, orange, "outline-initial");
  outline(b.trained, blue, "outline-trained");
  if (b.gamma) {
    gamma_line(p, panel, *b.gamma);
    gamma_notes(p, panel, *b.gamma, panel.top + 8,
                {fmt::format("\xCE\xB3 = {:.4g}", *b.gamma),
                 fmt::format("{} of {} pruned ({})", b.pruned, b.count, percent(b.count ? double(b.pruned) / b.count : 0))});
    legend.push_back({"\xCE\xB3: |b| < \xCE\xB3 is pruned", gamma_color, LegendEntry::Kind::dashed});
  }
  // Top right unless the bars under it reach it or the gamma line crosses
  // it; then top left if that is clear; else the corner with lower bars.
  double widest = 0;
  for (const LegendEntry& e : legend) widest = std::max(widest, text_width(e.label));
  const double legend_width = widest + 48, legend_top = panel.top + 60;
  const double legend_bottom = legend_top + 10 + 22 * static_cast<double>(legend.size());
  auto tallest_under = [&](double x0, double x1) {
    double tallest = 0;
    for (const std::vector<double>* s : {&b.trained, &b.initial})
      for (size_t i = 0; i < s->size(); ++i)
        if (panel.x.map(b.edges[i + 1]) > x0 && panel.x.map(b.edges[i]) < x1) tallest = std::max(tallest, (*s)[i]);
    return tallest;
  };
  auto clear = [&](double x0, double x1) {
    const bool crossed = b.gamma && panel.x.map(*b.gamma) > x0 - 8 && panel.x.map(*b.gamma) < x1 + 8;
    return !crossed && panel.y.map(tallest_under(x0, x1)) > legend_bottom + 4;
  };
  const double right_x0 = panel.right - 10 - legend_width, left_x1 = panel.left + 10 + legend_width;
  bool left = false;
  if (!clear(right_x0, panel.right - 10))
    left = clear(panel.left + 10, left_x1) ||
           tallest_under(panel.left + 10, left_x1) < tallest_under(right_x0, panel.right - 10);
  draw_legend(p, left ? left_x1 : panel.right - 10, legend_top, legend);
}

// ---- gamma curve -------------------------------------------------------------

void draw_gamma_curve(Painter& p, const GammaCurve& c, const FigureCaption& caption) {
  ROTOR_CHECK(!c.points.empty(), "gamma curve: no points");
  const ScoreName name = score_name(c.by);
  draw_title(p, gamma_figure_width,
             fmt::format("Choosing \xCE\xB3: accuracy and cost kept ({} {} {})", c.scores, name.plural, name.symbol),
             caption.subtitle());
  double g_lo = INFINITY, g_hi = 0, a_lo = c.base_accuracy - c.tolerance, a_hi = c.base_accuracy;
  bool positive = true;
  for (const GammaPoint& q : c.points) {
    positive = positive && q.gamma > 0;
    g_lo = std::min(g_lo, q.gamma), g_hi = std::max(g_hi, q.gamma);
    a_lo = std::min(a_lo, q.accuracy), a_hi = std::max(a_hi, q.accuracy);
  }
  // Candidates are score magnitudes, spread over decades like the slopes:
  // log scale, as in the slope histogram, unless one of them is 0.
  Axis x = positive ? log_axis(g_lo, g_hi) : linear_axis(0, g_hi, true);

  Panel acc, cost;
  acc.left = cost.left = 100;
  acc.right = cost.right = gamma_figure_width - 30;
  acc.top = 95, acc.bottom = 380;
  cost.top = 410, cost.bottom = gamma_figure_height - 75;
  acc.x = cost.x = x;
  acc.y = linear_axis(100 * a_lo, 100 * a_hi);
  cost.y = linear_axis(0, 100, true);
  acc.place();
  cost.place();
  acc.y_label = "accuracy, choosing half (%)";
  cost.y_label = "kept (%)";
  cost.x_label = fmt::format("\xCE\xB3{}: {} with {} < \xCE\xB3 are pruned", positive ? " (log scale)" : "",
                             c.by == PruneBy::slope ? "slopes" : "channels", name.symbol);
  draw_axes(p, acc, false);
  draw_axes(p, cost);

  auto series = [&](const Panel& panel, double GammaPoint::*field, Rgb color, const std::string& label, double width) {
    std::vector<Point> pts;
    for (const GammaPoint& q : c.points) pts.push_back({panel.x.map(q.gamma), panel.y.map(100 * (q.*field))});
    p.polyline(pts, color, width, "series", label);
    markers(p, pts, color);
  };
  const double floor = 100 * (c.base_accuracy - c.tolerance);
  p.line(acc.left, acc.y.map(floor), acc.right, acc.y.map(floor), grey, 1.5, true, "floor");
  series(acc, &GammaPoint::accuracy, blue, "accuracy", 2);
  // Wide under narrow: where they coincide (a dense net) both stay visible.
  series(cost, &GammaPoint::flops_kept, orange, "FLOPs kept", 6);
  series(cost, &GammaPoint::params_kept, green, "params kept", 2);
  gamma_line(p, acc, c.chosen);
  gamma_line(p, cost, c.chosen);

  const GammaPoint* at = &c.points.front();
  for (const GammaPoint& q : c.points)
    if (q.gamma <= c.chosen) at = &q;
  // Accuracy holds at small gamma and falls at large: the bottom left is free.
  double widest = 0;
  for (const char* s : {"accuracy at \xCE\xB3 (rotor prune's sweep)", "unpruned 100.0% - tolerance 0.0001"})
    widest = std::max(widest, text_width(s));
  draw_legend(p, acc.left + 58 + widest, acc.bottom - 80,
              {{"accuracy at \xCE\xB3 (rotor prune's sweep)", blue, LegendEntry::Kind::line},
               {fmt::format("unpruned {} - tolerance {:g}", percent(c.base_accuracy), c.tolerance), grey,
                LegendEntry::Kind::dashed},
               {"chosen \xCE\xB3", gamma_color, LegendEntry::Kind::dashed}});
  // The kept cost falls from the top left: the bottom left is free for the
  // legend, which also says what the chosen gamma keeps.
  const std::vector<LegendEntry> kept = {
      {fmt::format("chosen \xCE\xB3 = {:.4g}: {} of {} {} pruned", c.chosen, at->pruned, c.scores, name.plural),
       gamma_color,
       LegendEntry::Kind::dashed},
      {fmt::format("accuracy {}, FLOPs kept {}", percent(at->accuracy), percent(at->flops_kept)), gamma_color,
       LegendEntry::Kind::text},
      {"FLOPs kept", orange, LegendEntry::Kind::line, 1, 6},
      {"parameters kept", green, LegendEntry::Kind::line}};
  double kept_width = 0;
  for (const LegendEntry& e : kept) kept_width = std::max(kept_width, text_width(e.label));
  draw_legend(p, cost.left + 58 + kept_width, cost.bottom - 100, kept);
}

// ---- training curves ---------------------------------------------------------

void draw_training_curves(Painter& p, const std::vector<EpochMetrics>& epochs, const FigureCaption& caption) {
  ROTOR_CHECK(!epochs.empty(), "training curves: no epochs");
  draw_title(p, training_figure_width, fmt::format("Training curves ({} epochs)", epochs.size()), caption.subtitle());
  Axis x;
  x.integer = true;
  x.lo = static_cast<double>(epochs.front().epoch);
  x.hi = static_cast<double>(epochs.back().epoch);
  if (x.hi <= x.lo) x.lo -= 1, x.hi += 1;

  struct Line {
    std::string label;
    double EpochMetrics::*field;
    Rgb color;
  };
  struct Plot {
    std::string y_label;
    std::vector<Line> lines;
    double scale;  // 100 for percentages
  };
  const std::vector<Plot> plots = {
      {"loss", {{"train loss", &EpochMetrics::train_loss, blue}, {"test loss", &EpochMetrics::test_loss, orange}}, 1},
      {"accuracy (%)",
       {{"train accuracy", &EpochMetrics::train_acc, blue}, {"test accuracy", &EpochMetrics::test_acc, orange}},
       100},
      {"learning rate", {{"lr", &EpochMetrics::lr, green}}, 1},
  };
  const double top = 95, gap = 30, bottom = training_figure_height - 75;
  const double height = (bottom - top - gap * (plots.size() - 1)) / plots.size();
  for (size_t k = 0; k < plots.size(); ++k) {
    const Plot& plot = plots[k];
    double lo = INFINITY, hi = -INFINITY;
    for (const Line& l : plot.lines)
      for (const EpochMetrics& e : epochs) lo = std::min(lo, plot.scale * (e.*l.field)), hi = std::max(hi, plot.scale * (e.*l.field));
    Panel panel;
    panel.left = 125;  // room for tick labels like 0.0015
    panel.right = training_figure_width - 30;
    panel.top = top + static_cast<double>(k) * (height + gap);
    panel.bottom = panel.top + height;
    panel.x = x;
    panel.y = linear_axis(lo, hi, k == 2);  // the rate from 0: a schedule's shape reads true
    panel.place();
    panel.y_label = plot.y_label;
    const bool last = k + 1 == plots.size();
    if (last) panel.x_label = "epoch";
    draw_axes(p, panel, last);
    std::vector<LegendEntry> legend;
    for (const Line& l : plot.lines) {
      std::vector<Point> pts;
      for (const EpochMetrics& e : epochs)
        pts.push_back({panel.x.map(static_cast<double>(e.epoch)), panel.y.map(plot.scale * (e.*l.field))});
      p.polyline(pts, l.color, 2, "series", l.label);
      markers(p, pts, l.color);
      legend.push_back({l.label, l.color, LegendEntry::Kind::line});
    }
    // Loss and rate fall, accuracy rises: its top right is taken, its bottom right free.
    const double legend_top = plot.scale == 100 ? panel.bottom - 18 - 22 * static_cast<double>(legend.size()) : panel.top + 8;
    draw_legend(p, panel.right - 10, legend_top, legend);
  }
}

// ---- filter paths ------------------------------------------------------------

void draw_filter_paths(Painter& p, const std::vector<double>& dist, size_t blocks, const std::string& arch,
                       const FigureCaption& caption) {
  ROTOR_CHECK(!dist.empty(), "filter paths: empty distribution");
  draw_title(p, slope_figure_width, fmt::format("Filter-path lengths of {} ({} blocks, 2^{} paths)", arch, blocks, blocks),
             caption.subtitle());
  // Bins of equal width so the shape stays readable for long paths.
  const size_t width = std::max<size_t>(1, (dist.size() + 79) / 80);
  std::vector<double> edges, mass;
  double mean = 0, top = 0;
  for (size_t l = 0; l < dist.size(); ++l) mean += static_cast<double>(l) * dist[l];
  for (size_t l = 0; l < dist.size(); l += width) {
    edges.push_back(static_cast<double>(l) - 0.5);
    double s = 0;
    for (size_t k = l; k < std::min(dist.size(), l + width); ++k) s += dist[k];
    mass.push_back(s);
    top = std::max(top, s);
  }
  edges.push_back(static_cast<double>(edges.size() * width) - 0.5);
  Panel panel;
  panel.left = slope_plot_left;
  panel.right = slope_plot_right;
  panel.top = slope_plot_top;
  panel.bottom = slope_plot_bottom;
  panel.x.lo = edges.front();  // exactly the bins: rounding out to ticks would add an empty negative range
  panel.x.hi = edges.back();
  panel.x.integer = true;
  panel.y = linear_axis(0, top * 1.1, true);
  panel.place();
  panel.x_label = width > 1 ? fmt::format("filters along a path (bins of {})", width) : "filters along a path";
  panel.y_label = "fraction of paths";
  draw_axes(p, panel);
  for (size_t i = 0; i < mass.size(); ++i)
    if (mass[i] > 0)
      p.rect(panel.x.map(edges[i]), panel.y.map(mass[i]), panel.x.map(edges[i + 1]), panel.bottom, blue, 0.7, "bar");
  const double mx = panel.x.map(mean);
  p.line(mx, panel.top, mx, panel.bottom, black, 1.5, true, "mean");
  draw_legend(p, panel.right - 10, panel.top + 10,
              {{"fraction of paths", blue, LegendEntry::Kind::box, 0.7},
               {fmt::format("mean {:.1f} filters", mean), black, LegendEntry::Kind::dashed}});
}

}  // namespace rotor
