// The tensor-core instructions of kernels/cuda/mma.cuh for the CPU
// emulation (included by cuda_emu.h): TF32 rounding bit for bit, and
// mma.sync m16n8k8 TF32 as a warp-collective operation.
//
// mma: each lane deposits its A, B fragments in its warp's slot of the
// block state, the warp meets at a barrier, each lane computes its four D
// values from the fragments of the lanes that hold its row of A and its
// column of B (the PTX ISA's layout, written here independently of the
// frag_* helpers in mma.cuh), and the warp meets again before the slots are
// reused. A kernel that loads its fragments in another layout gets wrong
// numbers. The products of two TF32 values are exact in double; the eight
// are summed with C in double and rounded once to float. The hardware's
// internal order and rounding of that sum are not specified, so the tests
// allow FP32-level differences on top of the TF32 rounding of the inputs.
#pragma once

#include <cstdint>
#include <cstring>

namespace emu {

// cvt.rna.tf32.f32: round to nearest, ties away from zero, on the 13 low
// mantissa bits, which become zero; the carry may reach the exponent (and
// infinity). NaN stays NaN (the canonical one), infinities stay.
inline uint32_t tf32_round_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return (u & 0x007fffffu) ? 0x7fffffffu : u;
  return (u + 0x1000u) & 0xffffe000u;  // the sign is bit 31: adding to the magnitude rounds away from zero
}

inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

struct MmaSlots {
  uint32_t a[32][4];
  uint32_t b[32][2];
};

inline MmaSlots& mma_slots(unsigned warp);  // in cuda_emu.h: the block state's per-warp slots
inline void warp_sync_emu(unsigned warp);

inline void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4]) {
  const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  MmaSlots& s = mma_slots(warp);
  std::memcpy(s.a[lane], a, sizeof a);
  std::memcpy(s.b[lane], b, sizeof b);
  warp_sync_emu(warp);
  // PTX ISA, "Matrix Fragments for mma.m16n8k8" (.tf32): groupID = lane >> 2,
  // threadID_in_group = lane % 4.
  //   A(row, k) is in lane (row % 8) * 4 + k % 4, register (row >= 8) + 2 * (k >= 4)
  //   B(k, col) is in lane col * 4 + k % 4, register (k >= 4)
  //   D register r of a lane is (groupID + 8 * (r >= 2), 2 * threadID_in_group + r % 2)
  float out[4];
  for (int r = 0; r < 4; ++r) {
    const unsigned row = (lane >> 2) + 8 * (r >= 2), col = 2 * (lane & 3) + (r & 1);
    double sum = c[r];
    for (unsigned k = 0; k < 8; ++k) {
      const uint32_t av = s.a[(row % 8) * 4 + k % 4][(row >= 8) + 2 * (k >= 4)];
      const uint32_t bv = s.b[col * 4 + k % 4][k >= 4];
      // The tensor core reads only the TF32 bits of an operand.
      sum += double(bits_float(av & 0xffffe000u)) * double(bits_float(bv & 0xffffe000u));
    }
    out[r] = static_cast<float>(sum);
  }
  warp_sync_emu(warp);  // every lane has read the slots before any lane writes them again
  for (int r = 0; r < 4; ++r) d[r] = out[r];
}

}  // namespace emu
