// CUDA fully connected layer (kernels/linear.h): cuBLAS SGEMM for the three
// products, rotor kernels for the bias.
//
// cuBLAS is column-major; a row-major (r, c) matrix is the column-major
// (c, r) matrix with leading dimension c, i.e. its transpose. So each
// row-major product C = A B is issued as C^T = B^T A^T with the operands
// swapped. The handle runs plain FP32 (no TF32), on the context's stream.
// dbias is a column sum per output: one thread per column adds its N rows
// in order (double), coalesced across the warp and deterministic.
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/linear.h"

namespace rotor::cuda {
namespace {

using namespace detail;

// y (N, out) += bias (out) broadcast over rows.
__global__ void __launch_bounds__(block_threads)
    add_bias_kernel(float* __restrict__ y, const float* __restrict__ bias, uint32_t total, FastDiv out) {
  const uint32_t stride = gridDim.x * block_threads;
  for (uint32_t i = blockIdx.x * block_threads + threadIdx.x; i < total; i += stride) {
    uint32_t row, j;
    out.divmod(i, row, j);
    y[i] = __fadd_rn(y[i], bias[j]);
  }
}

// dbias (out) += sum over rows of dy (N, out).
__global__ void __launch_bounds__(block_threads)
    bias_grad_kernel(const float* __restrict__ dy, uint32_t n, uint32_t out, float* __restrict__ dbias) {
  const uint32_t j = blockIdx.x * block_threads + threadIdx.x;
  if (j >= out) return;
  double sum = 0;
  for (uint32_t i = 0; i < n; ++i) sum += dy[i * out + j];
  dbias[j] += static_cast<float>(sum);
}

void check(const LinearShape& s, const char* op) {
  ROTOR_CUDA_REQUIRE(s.n >= 0 && s.in >= 1 && s.out >= 1 && s.n * s.in <= max_index && s.n * s.out <= max_index &&
                         s.in * s.out <= max_index,
                     op, "matrices must have fewer than 2^31 values");
}

}  // namespace

void linear_forward(Context& ctx, const LinearShape& s, const float* x, const float* w, const float* bias,
                    float* y) {
  check(s, "linear_forward");
  if (s.n == 0) return;
  const float one = 1.0f, zero = 0.0f;
  // y^T (out, N) = W (out, in) x^T (in, N): W is column-major (in, out) -> op T.
  ROTOR_CUBLAS_CHECK(cublasSgemm(ctx.cuda().cublas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(s.out),
                                 static_cast<int>(s.n), static_cast<int>(s.in), &one, w, static_cast<int>(s.in), x,
                                 static_cast<int>(s.in), &zero, y, static_cast<int>(s.out)));
  if (!bias) return;
  const int64_t total = s.n * s.out;
  add_bias_kernel<<<grid_for(ctx, total), block_threads, 0, stream_of(ctx)>>>(
      y, bias, static_cast<uint32_t>(total), FastDiv(static_cast<uint32_t>(s.out)));
  ROTOR_CUDA_CHECK_LAUNCH();
}

void linear_backward_data(Context& ctx, const LinearShape& s, const float* dy, const float* w, float* dx,
                          GradMode mode) {
  check(s, "linear_backward_data");
  if (!dx || s.n == 0) return;
  const float one = 1.0f, beta = mode == GradMode::accumulate ? 1.0f : 0.0f;
  // dx^T (in, N) = W^T (in, out) dy^T (out, N).
  ROTOR_CUBLAS_CHECK(cublasSgemm(ctx.cuda().cublas, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(s.in),
                                 static_cast<int>(s.n), static_cast<int>(s.out), &one, w, static_cast<int>(s.in), dy,
                                 static_cast<int>(s.out), &beta, dx, static_cast<int>(s.in)));
}

void linear_backward_weight(Context& ctx, const LinearShape& s, const float* x, const float* dy, float* dw,
                            float* dbias) {
  check(s, "linear_backward_weight");
  if (s.n == 0) return;
  if (dw) {
    const float one = 1.0f;
    // dw^T (in, out) += x^T (in, N) dy (N, out); dy is column-major (out, N) -> op T.
    ROTOR_CUBLAS_CHECK(cublasSgemm(ctx.cuda().cublas, CUBLAS_OP_N, CUBLAS_OP_T, static_cast<int>(s.in),
                                   static_cast<int>(s.out), static_cast<int>(s.n), &one, x, static_cast<int>(s.in), dy,
                                   static_cast<int>(s.out), &one, dw, static_cast<int>(s.in)));
  }
  if (dbias) {
    const unsigned blocks = static_cast<unsigned>((s.out + block_threads - 1) / block_threads);
    bias_grad_kernel<<<blocks, block_threads, 0, stream_of(ctx)>>>(dy, static_cast<uint32_t>(s.n),
                                                                   static_cast<uint32_t>(s.out), dbias);
    ROTOR_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace rotor::cuda
