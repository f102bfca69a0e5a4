#include "apps/gamma_search.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/error.h"

namespace rotor {

GammaChoice choose_gamma(std::vector<double> magnitudes, const std::function<double(double)>& accuracy,
                         double tolerance, int coarse_points) {
  ROTOR_CHECK(!magnitudes.empty(), "choosing gamma: the model has no RReLU slopes (only an rrelu network can be "
                                   "pruned by slopes)");
  ROTOR_CHECK(tolerance >= 0, "choosing gamma: tolerance {} is negative", tolerance);
  std::sort(magnitudes.begin(), magnitudes.end());
  std::vector<double> unique = magnitudes;
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  const int64_t last = static_cast<int64_t>(unique.size()) - 1;

  GammaChoice c;
  std::map<int64_t, double> seen;
  auto eval = [&](int64_t j) {
    const auto it = seen.find(j);
    if (it != seen.end()) return it->second;
    const double gamma = unique[j];
    GammaTrial t{gamma, std::lower_bound(magnitudes.begin(), magnitudes.end(), gamma) - magnitudes.begin(),
                 accuracy(gamma)};
    c.trials.push_back(t);
    return seen[j] = t.accuracy;
  };
  c.base_accuracy = eval(0);  // gamma = smallest magnitude: nothing pruned
  const double floor = c.base_accuracy - tolerance;
  auto passes = [&](int64_t j) { return eval(j) >= floor; };

  // Coarse pass over evenly spaced candidates.
  const int64_t points = std::min<int64_t>(coarse_points, last);
  int64_t best = 0, first_fail = -1;
  for (int64_t i = 1; i <= points; ++i) {
    const int64_t j = last * i / points;
    if (passes(j)) {
      best = j;
      first_fail = -1;
    } else if (first_fail < 0) {
      first_fail = j;
    }
  }
  // Refine between the best passing candidate and the next failing one.
  if (first_fail > best + 1) {
    int64_t lo = best, hi = first_fail;  // passes(lo), !passes(hi)
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      (passes(mid) ? lo : hi) = mid;
    }
    best = lo;
  }
  c.gamma = unique[best];
  c.accuracy = seen.at(best);
  c.pruned = std::lower_bound(magnitudes.begin(), magnitudes.end(), c.gamma) - magnitudes.begin();
  return c;
}

int64_t max_gamma_trials(std::vector<double> magnitudes, int coarse_points) {
  std::sort(magnitudes.begin(), magnitudes.end());
  const int64_t last = std::unique(magnitudes.begin(), magnitudes.end()) - magnitudes.begin() - 1;
  if (last <= 0) return 1;
  const int64_t points = std::min<int64_t>(coarse_points, last);
  const int64_t widest = (last + points - 1) / points;  // coarse candidates are at most this far apart
  int64_t bisections = 0;
  while ((int64_t{1} << bisections) < widest) ++bisections;
  return 1 + points + bisections;
}

}  // namespace rotor
