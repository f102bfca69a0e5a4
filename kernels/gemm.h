// General matrix product on the CPU: the workhorse of linear and conv2d.
//
// Row-major, BLAS semantics: C = alpha * op(A) * op(B) + beta * C, where
// op(A) is M x K (A stored M x K with row stride lda, or K x M when
// trans_a) and op(B) is K x N. beta == 0 overwrites C without reading it.
// float and double are instantiated (double serves the gradient checks).
#pragma once

#include <cstdint>

namespace rotor {
class Context;
namespace cpu {

template <class T>
void gemm(Context& ctx, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// Same, on the calling thread only (for callers that already split the work
// across the pool, like conv2d over images).
template <class T>
void gemm_serial(Context& ctx, int thread, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                 const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace cpu
}  // namespace rotor
