// Comparison variants for bench_cuda (see bench_variants.h): an explicit
// im2col for the "im2col + cuBLAS SGEMM" convolution. Straightforward on
// purpose: it is the baseline the implicit GEMM of kernels/cuda/conv2d.cu
// should beat, not a kernel to ship.
#include <algorithm>

#include "bench/cuda/bench_variants.h"
#include "engine/cuda/cuda_check.h"

namespace rotor::bench {
namespace {

__global__ void im2col_kernel(const float* __restrict__ x, int64_t n, int64_t c_in, int64_t h, int64_t w,
                              int64_t kh, int64_t kw, int64_t stride, int64_t pad, int64_t ho, int64_t wo,
                              float* __restrict__ col) {
  const int64_t k_total = c_in * kh * kw, hw_out = ho * wo, total = n * k_total * hw_out;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = i % hw_out, k = (i / hw_out) % k_total, img = i / (hw_out * k_total);
    const int64_t ci = k / (kh * kw), r = k % (kh * kw), ki = r / kw, kj = r % kw;
    const int64_t ih = (p / wo) * stride - pad + ki, iw = (p % wo) * stride - pad + kj;
    col[i] = (ih >= 0 && ih < h && iw >= 0 && iw < w) ? x[((img * c_in + ci) * h + ih) * w + iw] : 0.0f;
  }
}

}  // namespace

void im2col(cudaStream_t stream, const ConvShape& s, const float* x, float* col) {
  const int64_t total = s.n * s.c_in * s.kh * s.kw * s.h_out() * s.w_out();
  const int64_t blocks = std::min<int64_t>((total + 255) / 256, 65535);
  im2col_kernel<<<static_cast<unsigned>(blocks), 256, 0, stream>>>(x, s.n, s.c_in, s.h, s.w, s.kh, s.kw, s.stride,
                                                                   s.pad, s.h_out(), s.w_out(), col);
  ROTOR_CUDA_CHECK_LAUNCH();
}

}  // namespace rotor::bench
