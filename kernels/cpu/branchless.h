// Branch-free pieces of the CPU activation kernels.
//
// max(0, z), and v where z > 0 else 0, written so that the compiler emits a
// compare and a mask rather than a branch: after batch norm about half the
// values are positive in no predictable order, and mispredicted branches
// made the bn_rrelu loops several times slower than memory allows (GCC
// turns `z > 0 ? v : 0` and `v * (z > 0)` back into branches inside a
// reduction; a bit mask it keeps). NaN z counts as not positive, as before.
#pragma once

#include <bit>
#include <cstdint>

namespace rotor::cpu {

inline double positive_part(double z) { return z > 0 ? z : 0.0; }

inline double where_positive(double z, double v) {
  const uint64_t mask = uint64_t(0) - static_cast<uint64_t>(z > 0);
  return std::bit_cast<double>(std::bit_cast<uint64_t>(v) & mask);
}

}  // namespace rotor::cpu
