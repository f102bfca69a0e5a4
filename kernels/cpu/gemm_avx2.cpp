// The float GEMM block compiled for AVX2 + FMA (this file alone gets
// -mavx2 -mfma); gemm.cpp calls it only when the CPU has both.
#define ROTOR_GEMM_NS avx2
#define ROTOR_GEMM_VECTOR_BYTES 32
#include "kernels/cpu/gemm_block.h"

namespace rotor::cpu {

void gemm_block_avx2_f32(const GemmCall<float>& call, int64_t i_begin, int64_t i_end, int64_t j_begin,
                         int64_t j_end, float* pack_a, float* pack_b) {
  avx2::gemm_block(call, i_begin, i_end, j_begin, j_end, pack_a, pack_b);
}

GemmTiling gemm_tiling_avx2_f32() {
  using B = avx2::Blocking<float>;
  return {B::mr, B::nr, B::pack_a_elems, B::pack_b_elems};
}

}  // namespace rotor::cpu
