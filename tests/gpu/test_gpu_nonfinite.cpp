// CUDA count_nonfinite against its CPU twin: NaN, both infinities and the
// finite extremes (FLT_MAX, denormals) on sizes that take one partial
// block, several blocks and the grid-stride loop; the count adds to the
// counter's value.
#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <limits>

#include "kernels/nonfinite.h"
#include "kernels/shapes.h"  // GradMode, which gpu_support.h uses
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

TEST_CASE("gpu count_nonfinite equals the CPU", "[gpu][nonfinite][sanitize]") {
  Twins t;
  constexpr float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  uint64_t seed = 900;
  for (int64_t n : {int64_t(1), int64_t(31), int64_t(256), int64_t(1000), int64_t(600001)}) {
    INFO("n=" << n);
    Rng rng(++seed);
    auto x = uniform(rng, static_cast<size_t>(n), -3, 3);
    const float specials[] = {nan, inf, -inf, FLT_MAX, -FLT_MAX, FLT_MIN / 4, 0.0f};
    for (int64_t i = 0; i < n; ++i)
      if (rng.below(5) == 0) x[static_cast<size_t>(i)] = specials[rng.below(7)];
    x[static_cast<size_t>(n - 1)] = nan;  // the last element counts too
    std::vector<int64_t> count = {7};
    cpu::count_nonfinite<float>(t.cpu, n, x.data(), count.data());
    REQUIRE(count[0] > 7);

    Tensor x_dev = to_gpu(t.gpu, x), count_dev = to_gpu(t.gpu, std::vector<int64_t>{7});
    cuda::count_nonfinite(t.gpu, n, fp(x_dev), count_dev.data<int64_t>());
    REQUIRE(from_gpu<int64_t>(t.gpu, count_dev) == count);
  }
  Tensor count_dev = to_gpu(t.gpu, std::vector<int64_t>{3});
  cuda::count_nonfinite(t.gpu, 0, nullptr, count_dev.data<int64_t>());
  REQUIRE(from_gpu<int64_t>(t.gpu, count_dev)[0] == 3);
}
