// Helpers for gradient checks in double precision and random test data.
//
// numeric_grad() perturbs each element of a vector by +-h and takes the
// central difference of a scalar loss; tests use the loss
// L = sum(r * f(inputs)) with a fixed random r, so the analytic gradient is
// the op's backward with dy = r.
#pragma once

#include <cmath>
#include <functional>
#include <vector>

#include "engine/rng.h"

namespace rotor::test {

inline std::vector<double> random_vector(Rng& rng, size_t n, double lo = -1, double hi = 1) {
  std::vector<double> v(n);
  for (double& x : v) x = lo + (hi - lo) * rng.uniform();
  return v;
}

// Values in [-hi, -lo] U [lo, hi]: away from an activation's kink at 0.
inline std::vector<double> random_away_from_zero(Rng& rng, size_t n, double lo = 0.1, double hi = 1) {
  std::vector<double> v(n);
  for (double& x : v) x = (rng.uniform() < 0.5 ? -1 : 1) * (lo + (hi - lo) * rng.uniform());
  return v;
}

inline std::vector<double> numeric_grad(std::vector<double>& v, const std::function<double()>& loss,
                                        double h = 1e-6) {
  std::vector<double> g(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const double old = v[i];
    v[i] = old + h;
    const double plus = loss();
    v[i] = old - h;
    const double minus = loss();
    v[i] = old;
    g[i] = (plus - minus) / (2 * h);
  }
  return g;
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

inline std::vector<float> to_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

}  // namespace rotor::test
