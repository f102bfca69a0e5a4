// kernels/mma_probe.h: one warp loads A, B and C into mma fragments by the
// frag_* (TF32) or frag16_* (FP16) tables of mma.cuh, runs one
// mma_m16n8k8_tf32 or mma_m16n8k8_f16 and stores D by the frag_c_* table.
// No CPU twin: the tests compare with a 16x8x8 matmul.
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/mma.cuh"
#include "kernels/mma_probe.h"

namespace rotor::cuda {
namespace {

using namespace detail;

__global__ void __launch_bounds__(32)
    mma_probe_kernel(const float* __restrict__ a, const float* __restrict__ b, const float* __restrict__ c,
                     float* __restrict__ d) {
#if ROTOR_MMA_TF32
  const int lane = threadIdx.x;
  uint32_t fa[4], fb[2];
  float fc[4], fd[4];
  for (int i = 0; i < 4; ++i) fa[i] = tf32_round(a[frag_a_row(lane, i) * 8 + frag_a_col(lane, i)]);
  for (int i = 0; i < 2; ++i) fb[i] = tf32_round(b[frag_b_row(lane, i) * 8 + frag_b_col(lane, i)]);
  for (int i = 0; i < 4; ++i) fc[i] = c[frag_c_row(lane, i) * 8 + frag_c_col(lane, i)];
  mma_m16n8k8_tf32(fd, fa, fb, fc);
  for (int i = 0; i < 4; ++i) d[frag_c_row(lane, i) * 8 + frag_c_col(lane, i)] = fd[i];
#endif
}

__global__ void __launch_bounds__(32)
    mma_f16_probe_kernel(const float* __restrict__ a, const float* __restrict__ b, const float* __restrict__ c,
                         float* __restrict__ d) {
#if ROTOR_MMA_F16
  const int lane = threadIdx.x;
  uint32_t fa[2], fb[1];
  float fc[4], fd[4];
  for (int i = 0; i < 2; ++i) {
    const float* row = a + frag16_a_row(lane, i) * 8;
    fa[i] = pack_half2(row[frag16_a_col(lane, 0)], row[frag16_a_col(lane, 1)]);
  }
  const int col = frag16_b_col(lane);
  fb[0] = pack_half2(b[frag16_b_row(lane, 0) * 8 + col], b[frag16_b_row(lane, 1) * 8 + col]);
  for (int i = 0; i < 4; ++i) fc[i] = c[frag_c_row(lane, i) * 8 + frag_c_col(lane, i)];
  mma_m16n8k8_f16(fd, fa, fb, fc);
  for (int i = 0; i < 4; ++i) d[frag_c_row(lane, i) * 8 + frag_c_col(lane, i)] = fd[i];
#endif
}

}  // namespace

void mma_f16_probe(Context& ctx, const float* a, const float* b, const float* c, float* d) {
  const cudaDeviceProp& p = ctx.cuda().prop;
  ROTOR_CUDA_REQUIRE(p.major * 10 + p.minor >= 75, "mma_f16_probe", "tensor-core FP16 needs an sm_75 or newer GPU");
  mma_f16_probe_kernel<<<1, 32, 0, stream_of(ctx)>>>(a, b, c, d);
  ROTOR_CUDA_CHECK_LAUNCH();
}

void mma_tf32_probe(Context& ctx, const float* a, const float* b, const float* c, float* d) {
  ROTOR_CUDA_REQUIRE(ctx.cuda().prop.major >= 8, "mma_tf32_probe", "tensor-core TF32 needs an sm_80 or newer GPU");
  mma_probe_kernel<<<1, 32, 0, stream_of(ctx)>>>(a, b, c, d);
  ROTOR_CUDA_CHECK_LAUNCH();
}

}  // namespace rotor::cuda
