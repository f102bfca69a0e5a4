// Choosing the pruning threshold gamma (DESIGN section 1): on the choosing
// half of the test set, gamma is the largest threshold such that zeroing
// every slope with |b| < gamma keeps the accuracy at or above the unpruned
// accuracy minus a tolerance.
//
// Candidates are the distinct slope magnitudes u_0 < u_1 < ...: gamma = u_j
// prunes exactly the slopes below u_j and is the largest threshold that
// prunes that set. A coarse pass evaluates evenly spaced candidates, then a
// bisection refines between the last passing one and the next failing one,
// so a network with thousands of slopes needs a few dozen evaluations.
#pragma once

#include <functional>
#include <vector>

namespace rotor {

struct GammaTrial {
  double gamma = 0;
  int64_t pruned = 0;
  double accuracy = 0;
};

struct GammaChoice {
  double gamma = 0;
  int64_t pruned = 0;
  double base_accuracy = 0, accuracy = 0;
  std::vector<GammaTrial> trials;  // in evaluation order
};

// magnitudes: |b| of every slope, any order. accuracy(gamma): accuracy of the
// network with slopes |b| < gamma zeroed, on the choosing data.
GammaChoice choose_gamma(std::vector<double> magnitudes, const std::function<double(double gamma)>& accuracy,
                         double tolerance, int coarse_points = 32);

// The most accuracy() calls choose_gamma makes for `magnitudes` (fewer when
// candidates repeat): the base, the coarse pass, and a bisection over at most
// one coarse interval. For a progress bar's whole-run ETA.
int64_t max_gamma_trials(std::vector<double> magnitudes, int coarse_points = 32);

}  // namespace rotor
