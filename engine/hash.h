// Counter-based hashing, usable on the host and in CUDA kernels.
//
// Per-sample randomness (crop offsets, flips, dropout masks) is a hash of
// (seed, counter...) rather than a draw from a stream, so the CPU and the GPU
// produce the same values for the same sample however work is split.
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#define ROTOR_HOST_DEVICE __host__ __device__
#else
#define ROTOR_HOST_DEVICE
#endif

namespace rotor {

// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
ROTOR_HOST_DEVICE constexpr uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

ROTOR_HOST_DEVICE constexpr uint64_t hash_u64(uint64_t a, uint64_t b) { return mix64(a ^ mix64(b)); }
ROTOR_HOST_DEVICE constexpr uint64_t hash_u64(uint64_t a, uint64_t b, uint64_t c) {
  return hash_u64(hash_u64(a, b), c);
}

}  // namespace rotor
