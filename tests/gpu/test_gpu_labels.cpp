// A label outside the classes: the CPU softmax cross-entropy throws naming
// the sample; the CUDA twin reads nothing past the row and reports it to
// the host as a NaN loss (and NaN gradient row), never a plausible number.
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/softmax_ce.h"
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

TEST_CASE("gpu softmax cross-entropy with a label outside the classes", "[gpu][softmax_ce][labels]") {
  Twins t;
  const int64_t n = 5, k = 10;
  Rng rng(77);
  const auto logits = uniform(rng, n * k, -4, 4);
  for (int32_t bad : {10, 11, -1, 1 << 30}) {
    INFO("bad label " << bad);
    std::vector<int32_t> labels = {1, 2, 3, bad, 4};
    std::vector<float> loss(1);
    REQUIRE_THROWS_WITH(
        cpu::softmax_cross_entropy_forward<float>(t.cpu, n, k, logits.data(), labels.data(), loss.data()),
        Catch::Contains("sample 3 of the batch has label " + std::to_string(bad)));

    Tensor logits_dev = to_gpu(t.gpu, logits), labels_dev = to_gpu(t.gpu, labels),
           loss_dev = to_gpu(t.gpu, std::vector<float>{0});
    cuda::softmax_cross_entropy_forward(t.gpu, n, k, fp(logits_dev), labels_dev.data<int32_t>(), fp(loss_dev));
    CHECK(std::isnan(from_gpu<float>(t.gpu, loss_dev)[0]));

    Tensor upstream_dev = to_gpu(t.gpu, std::vector<float>{1}),
           dlogits_dev = to_gpu(t.gpu, std::vector<float>(n * k, 0));
    cuda::softmax_cross_entropy_backward(t.gpu, n, k, fp(logits_dev), labels_dev.data<int32_t>(), fp(upstream_dev),
                                         fp(dlogits_dev), GradMode::assign);
    const auto g = from_gpu<float>(t.gpu, dlogits_dev);
    for (int64_t j = 0; j < k; ++j) {
      CHECK(std::isnan(g[3 * k + j]));   // the bad row
      CHECK(std::isfinite(g[2 * k + j]));  // the others are untouched
    }

    Tensor correct_dev = to_gpu(t.gpu, std::vector<int64_t>{0});
    cuda::count_correct(t.gpu, n, k, fp(logits_dev), labels_dev.data<int32_t>(), correct_dev.data<int64_t>());
    std::vector<int64_t> correct = {0};
    cpu::count_correct<float>(t.cpu, n, k, logits.data(), labels.data(), correct.data());
    CHECK(from_gpu<int64_t>(t.gpu, correct_dev) == correct);
  }
}
