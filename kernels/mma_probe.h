// One warp's tensor-core multiply, D (16x8) = A (16x8) * B (8x8) + C, all
// row-major FP32 device arrays, through the fragment layout and the
// mma.sync m16n8k8 TF32 wrapper of kernels/cuda/mma.cuh that the
// tensor-core convolutions use (A and B are rounded to TF32 on the way).
// It exists to test that layout: against a plain matmul on the CPU under
// the emulation (tests/gpu/test_gpu_conv_tf32.cpp), and against the
// hardware when the same test runs on a GPU. Needs an sm_80+ device.
#pragma once

namespace rotor {
class Context;

#if ROTOR_HAVE_CUDA
namespace cuda {
void mma_tf32_probe(Context& ctx, const float* a, const float* b, const float* c, float* d);
}  // namespace cuda
#endif

}  // namespace rotor
