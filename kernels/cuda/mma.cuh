// Warp-level tensor-core and asynchronous-copy wrappers (used by the
// tensor-core convolutions of kernels/cuda/conv2d_mma.cu): TF32 rounding
// and one mma.sync m16n8k8 TF32 multiply (sm_80+), FP16 packing and one
// mma.sync m16n8k8 FP16 multiply (sm_75+), both with FP32 accumulation, and
// cp.async global -> shared copies.
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
// and of mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32, whose A and B
// registers each hold two .f16 values (an .f16x2: the first in the low 16
// bits, the second in the high 16):
//
//   A (16 x 8, row-major)   a[0] = {A(g,   2t), A(g,   2t+1)}
//                           a[1] = {A(g+8, 2t), A(g+8, 2t+1)}
//   B (8 x 8, "col")        b[0] = {B(2t, g), B(2t+1, g)}
//   C, D (16 x 8)           as for TF32
//
// The frag_* (TF32) and frag16_* (FP16) helpers below spell that out; the
// kernels index their shared tiles through them. The CPU emulation
// (tests/gpu/emulation/emu_mma.h) models both instructions from the same
// tables written independently, so a kernel that loads a fragment wrongly
// computes wrong numbers there too.
//
// Architectures: the TF32 mma and cp.async need sm_80 (ROTOR_MMA_TF32), the
// FP16 mma sm_75 (ROTOR_MMA_F16). On nvcc's sm_75 pass the TF32 wrappers
// compile to a trap (the TF32 kernels compile to empty bodies and the host
// never launches them: cuda::detail::use_tensor_cores checks the device),
// and cp.async becomes a plain synchronous copy, so that the FP16 kernels'
// double-buffered mainloop compiles and is correct there: its one
// __syncthreads per step already orders a stage's writes before its reads
// and its reads before the next refill.
#pragma once

#include <cstdint>

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
#define ROTOR_MMA_TF32 1
#else
#define ROTOR_MMA_TF32 0
#endif
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 750
#define ROTOR_MMA_F16 1
#else
#define ROTOR_MMA_F16 0
#endif

#if !defined(__CUDACC__EMU)
#include <cuda_fp16.h>
#endif

namespace rotor::cuda::detail {

// Which (row, column) of its matrix fragment register i of `lane` holds.
__host__ __device__ constexpr int frag_a_row(int lane, int i) { return lane / 4 + (i & 1) * 8; }
__host__ __device__ constexpr int frag_a_col(int lane, int i) { return lane % 4 + (i >> 1) * 4; }
__host__ __device__ constexpr int frag_b_row(int lane, int i) { return lane % 4 + i * 4; }
__host__ __device__ constexpr int frag_b_col(int lane, int /*i*/) { return lane / 4; }
__host__ __device__ constexpr int frag_c_row(int lane, int i) { return lane / 4 + (i >> 1) * 8; }
__host__ __device__ constexpr int frag_c_col(int lane, int i) { return (lane % 4) * 2 + (i & 1); }
// FP16: half h (0 low, 1 high) of register i.
__host__ __device__ constexpr int frag16_a_row(int lane, int i) { return lane / 4 + i * 8; }
__host__ __device__ constexpr int frag16_a_col(int lane, int h) { return (lane % 4) * 2 + h; }
__host__ __device__ constexpr int frag16_b_row(int lane, int h) { return (lane % 4) * 2 + h; }
__host__ __device__ constexpr int frag16_b_col(int lane) { return lane / 4; }

#if defined(__CUDACC__EMU)
// The CPU emulation's models (tests/gpu/emulation/emu_mma.h).
__device__ __forceinline__ uint32_t tf32_round(float x) { return ::emu::tf32_round_bits(x); }
__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                 const float (&c)[4]) {
  ::emu::mma_m16n8k8_tf32(d, a, b, c);
}
__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
  return ::emu::half_bits(lo) | (uint32_t(::emu::half_bits(hi)) << 16);
}
__device__ __forceinline__ void mma_m16n8k8_f16(float (&d)[4], const uint32_t (&a)[2], const uint32_t (&b)[1],
                                                const float (&c)[4]) {
  ::emu::mma_m16n8k8_f16(d, a, b, c);
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
#if ROTOR_MMA_TF32
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
#if ROTOR_MMA_TF32
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

// lo and hi rounded to FP16 (nearest, ties to even; beyond 65504 to inf,
// below 2^-14 to subnormals) as an .f16x2 register, lo in the low half.
// __float2half_rn is cvt.rn.f16.f32 on every target (the paired
// cvt.rn.f16x2.f32 needs sm_80).
__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
  return uint32_t(__half_as_ushort(__float2half_rn(lo))) | (uint32_t(__half_as_ushort(__float2half_rn(hi))) << 16);
}

// d = a * b + c in FP16 x FP16 -> FP32 for one warp (all 32 lanes, converged).
__device__ __forceinline__ void mma_m16n8k8_f16(float (&d)[4], const uint32_t (&a)[2], const uint32_t (&b)[1],
                                                const float (&c)[4]) {
#if ROTOR_MMA_F16
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%7,%8,%9,%10};"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(b[0]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
#else
  __trap();
#endif
}

// Asynchronous copy of 4 (16) bytes from global to shared memory; when
// !valid nothing is read and the destination is zero-filled (src-size 0),
// which is how the zero padding of a convolution window is written. The
// 16-byte form needs both addresses 16-byte aligned. Before sm_80: a
// synchronous load and store (see the top of this file).
__device__ __forceinline__ void cp_async4(float* smem, const float* gmem, bool valid) {
#if ROTOR_MMA_TF32
  const uint32_t dst = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(dst), "l"(gmem), "r"(valid ? 4 : 0));
#else
  *smem = valid ? *gmem : 0.0f;
#endif
}
__device__ __forceinline__ void cp_async16(float* smem, const float* gmem, bool valid) {
#if ROTOR_MMA_TF32
  const uint32_t dst = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(gmem), "r"(valid ? 16 : 0));
#else
  *reinterpret_cast<float4*>(smem) = valid ? *reinterpret_cast<const float4*>(gmem) : make_float4(0, 0, 0, 0);
#endif
}
// Closes the group of copies issued so far; wait_all waits for every group
// of this thread (other threads' copies need a __syncthreads after it).
// No-ops before sm_80, where the copies are synchronous.
__device__ __forceinline__ void cp_async_commit() {
#if ROTOR_MMA_TF32
  asm volatile("cp.async.commit_group;" ::);
#endif
}
__device__ __forceinline__ void cp_async_wait_all() {
#if ROTOR_MMA_TF32
  asm volatile("cp.async.wait_all;" ::: "memory");
#endif
}
#endif

}  // namespace rotor::cuda::detail
