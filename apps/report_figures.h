// The figures of `rotor report`, each drawn through a Painter (apps/plot.h)
// so it exists as PNG and SVG alike:
//
//   slope histogram   |b| of the trained (and initial) slopes, gamma marked
//   gamma curve       accuracy and FLOPs/parameters kept against gamma
//   training curves   loss, accuracy and learning rate against epoch
//   filter paths      distribution of filter-path lengths (residual nets)
//
// Every figure's subtitle names the model, data set, epoch and gamma
// (FigureCaption).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apps/plot.h"
#include "apps/report_inputs.h"

namespace rotor {

// ---- slope histogram ---------------------------------------------------------
//
// The x axis is |b| on a log scale. Slope decay shrinks the slopes of
// unneeded channels by orders of magnitude while the useful ones stay near
// 1; on a linear axis the shrunk ones pile up in the first bin, unreadable.
// On log10|b| each decade gets the same width, so the cluster near 0 spreads
// out, and pruning (|b| < gamma) becomes one vertical line with the pruned
// slopes to its left. The sign of b does not matter for pruning; the x label
// says how many slopes are negative.

constexpr int slope_figure_width = 900, slope_figure_height = 600;
constexpr double slope_plot_left = 100, slope_plot_right = 870, slope_plot_top = 92, slope_plot_bottom = 525;
// The axis spans the nonzero |b| of both sets (and gamma), widened to 1, 2
// or 5 times a power of ten (log_axis), and reaches at most this many
// decades below the largest |b|; smaller ones (and zeros) are counted in the
// first bin.
constexpr double slope_decades_max = 6;

struct SlopeBins {
  Axis x;                                 // |b|, log10 (log_axis)
  std::vector<double> edges;              // bins + 1, equal steps of log10|b|
  std::vector<double> trained, initial;   // counts per bin; initial empty without an initial model
  int64_t trained_below = 0;              // trained |b| < x.lo (zeros included), counted in bin 0
  int64_t negative = 0, count = 0;        // trained slopes with b < 0, all trained slopes
  int64_t initial_count = 0;
  std::optional<double> gamma;
  int64_t pruned = 0;                     // trained |b| < gamma
};
SlopeBins bin_slopes(const std::vector<float>& trained, const std::vector<float>& initial, std::optional<double> gamma,
                     int64_t bins);
void draw_slope_histogram(Painter& p, const SlopeBins& bins, const std::string& arch, const FigureCaption& caption);

// ---- gamma curve -------------------------------------------------------------

// The sweep's criterion (PruneBy) says what gamma is compared with; the
// title, the x label and the legend name those scores.
struct GammaPoint {
  double gamma = 0, accuracy = 0;  // accuracy on prune's choosing half
  int64_t pruned = 0;              // scores under gamma
  double flops_kept = 1, params_kept = 1;  // fractions of the unpruned model's
};
struct GammaCurve {
  std::vector<GammaPoint> points;  // sorted by gamma
  double chosen = 0, base_accuracy = 0, tolerance = 0;
  PruneBy by = PruneBy::slope;
  int64_t scores = 0;  // prune_scores of the swept model
};
constexpr int gamma_figure_width = 900, gamma_figure_height = 760;
void draw_gamma_curve(Painter& p, const GammaCurve& curve, const FigureCaption& caption);

// ---- training curves ---------------------------------------------------------

constexpr int training_figure_width = 900, training_figure_height = 900;
void draw_training_curves(Painter& p, const std::vector<EpochMetrics>& epochs, const FigureCaption& caption);

// ---- filter paths ------------------------------------------------------------

// dist[l]: fraction of paths through l filters.
void draw_filter_paths(Painter& p, const std::vector<double>& dist, size_t blocks, const std::string& arch,
                       const FigureCaption& caption);

}  // namespace rotor
