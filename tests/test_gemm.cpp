// cpu::gemm against a plain triple loop, over transposes, edge sizes,
// alpha/beta, and beta = 0 with NaN in C (must not be read).
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/context.h"
#include "kernels/gemm.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"

using namespace rotor;
using namespace rotor::test;

namespace {

template <class T>
void check_gemm(Context& ctx, Rng& rng, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, double beta,
                double tol) {
  const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;  // padded leading dimensions
  const auto a = random_vector(rng, static_cast<size_t>((ta ? k : m) * lda));
  const auto b = random_vector(rng, static_cast<size_t>((tb ? n : k) * ldb));
  std::vector<double> c0 = random_vector(rng, static_cast<size_t>(m * ldc));
  if (beta == 0) std::fill(c0.begin(), c0.end(), std::nan(""));
  std::vector<double> ref(c0.size());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= n) {
        ref[i * ldc + j] = c0[i * ldc + j];  // padding untouched
        continue;
      }
      double s = 0;
      for (int64_t p = 0; p < k; ++p) s += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
      ref[i * ldc + j] = alpha * s + (beta == 0 ? 0.0 : beta * c0[i * ldc + j]);
    }
  const std::vector<T> at(a.begin(), a.end()), bt(b.begin(), b.end());
  std::vector<T> c(c0.begin(), c0.end());
  cpu::gemm<T>(ctx, ta, tb, m, n, k, T(alpha), at.data(), lda, bt.data(), ldb, T(beta), c.data(), ldc);
  INFO("gemm " << (ta ? "T" : "N") << (tb ? "T" : "N") << " m=" << m << " n=" << n << " k=" << k << " alpha=" << alpha
               << " beta=" << beta);
  std::vector<double> got(c.begin(), c.end());
  // Padding columns hold NaN when beta == 0: compare only the written part there.
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = n; j < ldc; ++j)
      if (std::isnan(ref[i * ldc + j])) got[i * ldc + j] = ref[i * ldc + j] = 0;
  REQUIRE_CLOSE("C", got, ref, tol, tol);
}

}  // namespace

TEST_CASE("gemm matches a triple loop", "[gemm]") {
  Context ctx;
  Rng rng(31);
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> sizes = {
      {1, 1, 1}, {7, 5, 3}, {6, 16, 256}, {13, 37, 300}, {128, 10, 500}, {300, 33, 17}, {65, 129, 257}};
  for (const auto& [m, n, k] : sizes)
    for (const bool ta : {false, true})
      for (const bool tb : {false, true}) {
        check_gemm<float>(ctx, rng, ta, tb, m, n, k, 1.0, 0.0, 2e-4);
        check_gemm<double>(ctx, rng, ta, tb, m, n, k, 0.5, 0.25, 1e-12);
      }
  check_gemm<float>(ctx, rng, false, false, 200, 300, 64, -1.5, 1.0, 2e-4);
}

TEST_CASE("gemm with k = 0 scales C by beta", "[gemm]") {
  Context ctx;
  std::vector<float> c = {1, 2, 3, 4};
  cpu::gemm<float>(ctx, false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.5f, c.data(), 2);
  CHECK(c == std::vector<float>{0.5f, 1, 1.5f, 2});
  CHECK_THROWS_WITH(cpu::gemm<float>(ctx, false, false, 2, 2, 3, 1.0f, c.data(), 2, c.data(), 2, 0.0f, c.data(), 2),
                    Catch::Contains("lda=2 too small"));
}
