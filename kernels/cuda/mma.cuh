// Warp-level tensor-core and asynchronous-copy wrappers for sm_80+ (used by
// kernels/cuda/conv2d_tf32.cu): TF32 rounding, one mma.sync m16n8k8 TF32
// multiply with FP32 accumulation, and cp.async global -> shared copies.
//
// Fragment layout of mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32, as
// the PTX ISA defines it. With lane = threadIdx.x % 32, g = lane / 4 (the
// "groupID") and t = lane % 4 (the "threadID_in_group"), each lane holds:
//
//   A (16 x 8, row-major)   a[0] = A(g,   t)     a[1] = A(g+8, t)
//                           a[2] = A(g,   t+4)   a[3] = A(g+8, t+4)
//   B (8 x 8, "col")        b[0] = B(t,   g)     b[1] = B(t+4, g)
//   C, D (16 x 8)           c[0] = C(g,   2t)    c[1] = C(g,   2t+1)
//                           c[2] = C(g+8, 2t)    c[3] = C(g+8, 2t+1)
//
// The frag_* helpers below spell that out; the kernels index their shared
// tiles through them. The CPU emulation (tests/gpu/emulation/emu_mma.h)
// models the instruction from the same table written independently, so a
// kernel that loads a fragment wrongly computes wrong numbers there too.
//
// Everything here needs sm_80. On older targets (nvcc's sm_75 pass) the
// wrappers compile to a trap and ROTOR_TENSOR_CORES is 0: the tensor-core
// kernels compile to empty bodies and the host never launches them
// (cuda::detail::use_tensor_cores checks the device).
#pragma once

#include <cstdint>

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
#define ROTOR_TENSOR_CORES 1
#else
#define ROTOR_TENSOR_CORES 0
#endif

namespace rotor::cuda::detail {

// Which (row, column) of its matrix fragment register i of `lane` holds.
__host__ __device__ constexpr int frag_a_row(int lane, int i) { return lane / 4 + (i & 1) * 8; }
__host__ __device__ constexpr int frag_a_col(int lane, int i) { return lane % 4 + (i >> 1) * 4; }
__host__ __device__ constexpr int frag_b_row(int lane, int i) { return lane % 4 + i * 4; }
__host__ __device__ constexpr int frag_b_col(int lane, int /*i*/) { return lane / 4; }
__host__ __device__ constexpr int frag_c_row(int lane, int i) { return lane / 4 + (i >> 1) * 8; }
__host__ __device__ constexpr int frag_c_col(int lane, int i) { return (lane % 4) * 2 + (i & 1); }

#if defined(__CUDACC__EMU)
// The CPU emulation's models (tests/gpu/emulation/emu_mma.h).
__device__ __forceinline__ uint32_t tf32_round(float x) { return ::emu::tf32_round_bits(x); }
__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                 const float (&c)[4]) {
  ::emu::mma_m16n8k8_tf32(d, a, b, c);
}
__device__ __forceinline__ void cp_async4(float* smem, const float* gmem, bool valid) {
  *smem = valid ? *gmem : 0.0f;
}
__device__ __forceinline__ void cp_async16(float* smem, const float* gmem, bool valid) {
  for (int i = 0; i < 4; ++i) smem[i] = valid ? gmem[i] : 0.0f;
}
__device__ __forceinline__ void cp_async_commit() {}
__device__ __forceinline__ void cp_async_wait_all() {}
#else

// x rounded to TF32 (nearest, ties away from zero; the low 13 bits zero),
// as the bits an mma operand register takes.
__device__ __forceinline__ uint32_t tf32_round(float x) {
#if ROTOR_TENSOR_CORES
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
#else
  __trap();
  return 0;
#endif
}

// d = a * b + c for one warp (all 32 lanes must call it, converged).
__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                 const float (&c)[4]) {
#if ROTOR_TENSOR_CORES
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
#else
  __trap();
#endif
}

// Asynchronous copy of 4 (16) bytes from global to shared memory; when
// !valid nothing is read and the destination is zero-filled (src-size 0),
// which is how the zero padding of a convolution window is written. The
// 16-byte form needs both addresses 16-byte aligned.
__device__ __forceinline__ void cp_async4(float* smem, const float* gmem, bool valid) {
#if ROTOR_TENSOR_CORES
  const uint32_t dst = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(dst), "l"(gmem), "r"(valid ? 4 : 0));
#else
  __trap();
#endif
}
__device__ __forceinline__ void cp_async16(float* smem, const float* gmem, bool valid) {
#if ROTOR_TENSOR_CORES
  const uint32_t dst = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(gmem), "r"(valid ? 16 : 0));
#else
  __trap();
#endif
}
// Closes the group of copies issued so far; wait_all waits for every group
// of this thread (other threads' copies need a __syncthreads after it).
__device__ __forceinline__ void cp_async_commit() {
#if ROTOR_TENSOR_CORES
  asm volatile("cp.async.commit_group;" ::);
#endif
}
__device__ __forceinline__ void cp_async_wait_all() {
#if ROTOR_TENSOR_CORES
  asm volatile("cp.async.wait_all;" ::: "memory");
#endif
}
#endif

}  // namespace rotor::cuda::detail
