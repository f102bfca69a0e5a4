// The arguments of one GEMM, and what gemm.cpp needs from each compiled copy
// of gemm_block.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rotor::cpu {

template <class T>
struct GemmCall {
  bool trans_a, trans_b;
  int64_t m, n, k;
  T alpha;
  const T* a;
  int64_t lda;
  const T* b;
  int64_t ldb;
  T beta;
  T* c;
  int64_t ldc;
};

struct GemmTiling {
  int mr, nr;
  size_t pack_a_elems, pack_b_elems;
};

void gemm_block_avx2_f32(const GemmCall<float>& call, int64_t i_begin, int64_t i_end, int64_t j_begin,
                         int64_t j_end, float* pack_a, float* pack_b);
GemmTiling gemm_tiling_avx2_f32();

}  // namespace rotor::cpu
