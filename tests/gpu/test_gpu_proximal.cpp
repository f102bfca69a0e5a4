// CUDA soft_threshold (kernels/proximal.h) against its CPU twin.
#include <catch2/catch.hpp>

#include "kernels/proximal.h"
#include "kernels/shapes.h"  // GradMode, which gpu_support.h uses
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

TEST_CASE("gpu soft_threshold equals the CPU", "[gpu][proximal][sanitize]") {
  Twins t;
  Rng rng(700);
  for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{1000}, int64_t{4097}, int64_t{100003}}) {
    for (float threshold : {0.0f, 1e-4f, 0.25f, 0.7f}) {
      INFO("n=" << n << " threshold=" << threshold);
      std::vector<float> x = uniform(rng, static_cast<size_t>(n), -1, 1);
      if (n > 4) {  // exact edges: at the threshold, signed zeros
        x[0] = threshold;
        x[1] = -threshold;
        x[2] = 0.0f;
        x[3] = -0.0f;
      }
      Tensor x_dev = to_gpu(t.gpu, x);
      cpu::soft_threshold<float>(t.cpu, n, threshold, x.data());
      cuda::soft_threshold(t.gpu, n, threshold, fp(x_dev));
      // The same operations on both sides: bit for bit.
      REQUIRE_TWIN("soft_threshold", from_gpu<float>(t.gpu, x_dev), x, 0.0);
    }
  }
}
