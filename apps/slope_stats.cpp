#include "apps/slope_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/tensor_util.h"

namespace rotor {

std::vector<float> all_slopes(Context& ctx, Model& model) {
  std::vector<float> out;
  for (auto& [name, p] : model.named_slopes()) {
    const std::vector<float> v = host_values(ctx, p->value());
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// Linear interpolation between order statistics (NumPy's default).
static double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos)), hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

SlopeSummary summarize_slopes(const std::vector<float>& slopes, const std::vector<double>& thresholds) {
  SlopeSummary s;
  s.count = static_cast<int64_t>(slopes.size());
  std::vector<double> mags;
  for (float b : slopes) {
    mags.push_back(std::fabs(static_cast<double>(b)));
    s.negative += b < 0;
  }
  std::sort(mags.begin(), mags.end());
  if (!mags.empty()) {
    s.min = mags.front();
    s.max = mags.back();
    s.q1 = quantile(mags, 0.25);
    s.median = quantile(mags, 0.5);
    s.q3 = quantile(mags, 0.75);
  }
  for (double t : thresholds)
    s.under.emplace_back(t, std::lower_bound(mags.begin(), mags.end(), t) - mags.begin());
  return s;
}

Json SlopeSummary::to_json() const {
  Json j = Json::object();
  j.set("count", count);
  j.set("negative", negative);
  j.set("abs_min", min);
  j.set("abs_q1", q1);
  j.set("abs_median", median);
  j.set("abs_q3", q3);
  j.set("abs_max", max);
  Json u = Json::object();
  for (auto& [t, n] : under) u.set(fmt::format("{:g}", t), n);
  j.set("abs_under", u);
  return j;
}

std::string SlopeSummary::describe() const {
  if (count == 0) return "no RReLU slopes (the network's activation has none)";
  std::string out = fmt::format("{} slopes ({} negative); |b|: min {:.4f}  q1 {:.4f}  median {:.4f}  q3 {:.4f}  max {:.4f}",
                                count, negative, min, q1, median, q3, max);
  for (auto& [t, n] : under) out += fmt::format("\n  |b| < {:<5g}: {:>6} ({:.1f}%)", t, n, 100.0 * n / count);
  return out;
}

}  // namespace rotor
