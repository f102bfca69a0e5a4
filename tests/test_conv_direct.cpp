// The CPU conv2d forward against the direct definition
//   y[n, o, i, j] = sum_{c, p, q} w[o, c, p, q] * x[n, c, i*stride - pad + p, j*stride - pad + q]
// (zero outside x), on shapes chosen to hit every edge case of im2col: rows
// and columns wholly inside the padding, strides that skip the last input
// column, kernels taller than wide, and a single image.
#include <catch2/catch.hpp>

#include "engine/context.h"
#include "kernels/conv2d.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tolerance.h"

using namespace rotor;
using namespace rotor::test;

namespace {

std::vector<double> direct_conv(const ConvShape& s, const std::vector<double>& x, const std::vector<double>& w) {
  const int64_t ho = s.h_out(), wo = s.w_out();
  std::vector<double> y(static_cast<size_t>(s.y_numel()), 0.0);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t o = 0; o < s.c_out; ++o)
      for (int64_t i = 0; i < ho; ++i)
        for (int64_t j = 0; j < wo; ++j) {
          double sum = 0;
          for (int64_t c = 0; c < s.c_in; ++c)
            for (int64_t p = 0; p < s.kh; ++p)
              for (int64_t q = 0; q < s.kw; ++q) {
                const int64_t ih = i * s.stride - s.pad + p, iw = j * s.stride - s.pad + q;
                if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                sum += w[((o * s.c_in + c) * s.kh + p) * s.kw + q] * x[((n * s.c_in + c) * s.h + ih) * s.w + iw];
              }
          y[((n * s.c_out + o) * ho + i) * wo + j] = sum;
        }
  return y;
}

}  // namespace

TEST_CASE("conv2d forward equals the direct definition", "[conv2d]") {
  Context ctx;
  Rng rng(5);
  const std::vector<ConvShape> shapes = {
      {3, 2, 7, 6, 4, 3, 3, 1, 1},   // same padding, odd sizes, more images than threads
      {1, 2, 9, 8, 3, 3, 3, 2, 1},   // stride 2, rectangular, one image
      {2, 3, 10, 7, 2, 5, 5, 3, 2},  // stride 3 skips the last columns
      {2, 1, 4, 4, 2, 3, 3, 1, 3},   // padding wider than the kernel reach: whole rows of zeros
      {1, 2, 6, 9, 3, 5, 1, 2, 1},   // kernel taller than wide
      {2, 2, 5, 5, 3, 1, 1, 2, 0},   // 1x1 stride 2
      {2, 3, 4, 3, 2, 1, 1, 1, 0},   // pointwise (no im2col)
  };
  for (const ConvShape& s : shapes) {
    INFO("conv shape n=" << s.n << " c_in=" << s.c_in << " " << s.h << "x" << s.w << " c_out=" << s.c_out << " k="
                         << s.kh << "x" << s.kw << " stride=" << s.stride << " pad=" << s.pad);
    const std::vector<double> x = random_vector(rng, s.x_numel()), w = random_vector(rng, s.w_numel());
    std::vector<double> y(static_cast<size_t>(s.y_numel()), -99.0);
    cpu::conv2d_forward<double>(ctx, s, x.data(), w.data(), y.data());
    REQUIRE_CLOSE("conv2d forward", y, direct_conv(s, x, w), 1e-12, 1e-12);
  }
}
