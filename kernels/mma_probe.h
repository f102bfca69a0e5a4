// One warp's tensor-core multiply, D (16x8) = A (16x8) * B (8x8) + C, all
// row-major FP32 device arrays, through the fragment layout and the
// mma.sync m16n8k8 wrappers of kernels/cuda/mma.cuh that the tensor-core
// convolutions use: TF32 (A and B rounded to TF32 on the way; needs sm_80+)
// or FP16 (rounded to IEEE half; needs sm_75+). They exist to test those
// layouts: against a plain matmul on the CPU under the emulation
// (tests/gpu/test_gpu_conv_tf32.cpp, test_gpu_conv_fp16.cpp), and against
// the hardware when the same tests run on a GPU.
#pragma once

namespace rotor {
class Context;

#if ROTOR_HAVE_CUDA
namespace cuda {
void mma_tf32_probe(Context& ctx, const float* a, const float* b, const float* c, float* d);
void mma_f16_probe(Context& ctx, const float* a, const float* b, const float* c, float* d);
}  // namespace cuda
#endif

}  // namespace rotor
