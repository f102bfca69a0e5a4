// The tensor-core instructions of kernels/cuda/mma.cuh for the CPU
// emulation (included by cuda_emu.h): TF32 rounding and FP16 (IEEE
// binary16) rounding bit for bit, and mma.sync m16n8k8 in TF32 and in FP16
// as warp-collective operations.
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
// The FP16 mma is modelled the same way (products of two binary16 values
// are exact in double too), from its own fragment table.
#pragma once

#include <cstdint>
#include <cmath>
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

// cvt.rn.f16.f32 (what __float2half_rn compiles to): IEEE binary16, round
// to nearest, ties to even; magnitudes below 2^-14 become subnormals (steps
// of 2^-24, down to zero), from 65520 up infinity (65504 is the largest
// finite); NaN becomes the canonical 0x7e00 with x's sign. Computed in
// double, in the default rounding mode (nearest even), not by bit tricks,
// to be independent of how a kernel might do it.
inline uint16_t half_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return sign | 0x7e00u;
  if ((u & 0x7fffffffu) == 0x7f800000u) return sign | 0x7c00u;
  const double a = std::fabs(static_cast<double>(x));
  if (a < 0x1p-14) return sign | static_cast<uint16_t>(std::nearbyint(a * 0x1p24));  // 1024: the least normal
  int e2;
  std::frexp(a, &e2);
  const int e = e2 - 1;                                               // a in [2^e, 2^(e+1))
  const uint32_t m = static_cast<uint32_t>(std::nearbyint(std::ldexp(a, 10 - e)));  // in [1024, 2048]
  const uint32_t bits = (static_cast<uint32_t>(e + 15) << 10) + (m - 1024);     // m = 2048 carries into e
  return sign | static_cast<uint16_t>(std::min<uint32_t>(bits, 0x7c00u));
}

inline double half_value(uint16_t h) {
  const int e = (h >> 10) & 31, m = h & 1023;
  const double mag = e == 0 ? std::ldexp(double(m), -24)
                     : e == 31 ? (m ? NAN : INFINITY)
                               : std::ldexp(double(1024 + m), e - 25);
  return (h & 0x8000u) ? -mag : mag;
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

inline void mma_m16n8k8_f16(float (&d)[4], const uint32_t (&a)[2], const uint32_t (&b)[1], const float (&c)[4]) {
  const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  MmaSlots& s = mma_slots(warp);
  std::memcpy(s.a[lane], a, sizeof a);
  std::memcpy(s.b[lane], b, sizeof b);
  warp_sync_emu(warp);
  // PTX ISA, "Matrix Fragments for mma.m16n8k8" (.f16): each register holds
  // two .f16, the lower-numbered element in bits 0-15.
  //   A(row, k) is in lane (row % 8) * 4 + k / 2, register (row >= 8), half k % 2
  //   B(k, col) is in lane col * 4 + k / 2, register 0, half k % 2
  //   D as for .tf32
  auto half_of = [](uint32_t reg, unsigned h) { return half_value(static_cast<uint16_t>(reg >> (16 * h))); };
  float out[4];
  for (int r = 0; r < 4; ++r) {
    const unsigned row = (lane >> 2) + 8 * (r >= 2), col = 2 * (lane & 3) + (r & 1);
    double sum = c[r];
    for (unsigned k = 0; k < 8; ++k)
      sum += half_of(s.a[(row % 8) * 4 + k / 2][row >= 8], k % 2) * half_of(s.b[col * 4 + k / 2][0], k % 2);
    out[r] = static_cast<float>(sum);
  }
  warp_sync_emu(warp);
  for (int r = 0; r < 4; ++r) d[r] = out[r];
}

}  // namespace emu
