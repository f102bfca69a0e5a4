// One tolerance rule for every numeric comparison in the tests:
// |got - ref| <= atol + rtol * |ref|. On failure the message names the
// worst element, both values and the largest relative error, so a broken
// kernel says where it is broken.
#pragma once

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

namespace rotor::test {

struct Closeness {
  bool ok = true;
  std::string report;
};

template <class A, class B>
Closeness compare(const std::string& what, const A* got, const B* ref, size_t n, double atol, double rtol) {
  Closeness c;
  size_t worst = 0;
  double worst_excess = -1, max_rel = 0;
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const double g = static_cast<double>(got[i]), r = static_cast<double>(ref[i]);
    const double err = std::fabs(g - r), bound = atol + rtol * std::fabs(r);
    if (!(err <= bound)) ++bad;  // NaN counts as bad
    const double excess = std::isnan(err) ? INFINITY : err - bound;
    if (excess > worst_excess) {
      worst_excess = excess;
      worst = i;
    }
    if (r != 0) max_rel = std::max(max_rel, err / std::fabs(r));
  }
  c.ok = bad == 0;
  if (!c.ok)
    c.report = fmt::format("{}: {} of {} elements out of tolerance (atol {:g}, rtol {:g}); worst at index {}: got {:.10g}, "
                           "expected {:.10g}; max relative error {:.3g}",
                           what, bad, n, atol, rtol, worst, static_cast<double>(got[worst]),
                           static_cast<double>(ref[worst]), max_rel);
  return c;
}

template <class A, class B>
Closeness compare(const std::string& what, const std::vector<A>& got, const std::vector<B>& ref, double atol,
                  double rtol) {
  if (got.size() != ref.size()) return {false, fmt::format("{}: {} values, expected {}", what, got.size(), ref.size())};
  return compare(what, got.data(), ref.data(), got.size(), atol, rtol);
}

}  // namespace rotor::test

// REQUIRE_CLOSE(what, got, ref, [n,] atol, rtol)
#define REQUIRE_CLOSE(...)                                          \
  do {                                                              \
    const auto closeness_ = ::rotor::test::compare(__VA_ARGS__);    \
    INFO(closeness_.report);                                        \
    REQUIRE(closeness_.ok);                                         \
  } while (0)
#define CHECK_CLOSE(...)                                            \
  do {                                                              \
    const auto closeness_ = ::rotor::test::compare(__VA_ARGS__);    \
    INFO(closeness_.report);                                        \
    CHECK(closeness_.ok);                                           \
  } while (0)
