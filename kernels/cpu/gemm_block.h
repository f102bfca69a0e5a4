// The packed, blocked GEMM behind cpu::gemm (after Goto & van de Geijn).
//
// This header is compiled twice: by gemm.cpp for any x86-64 (16-byte
// vectors) and by gemm_avx2.cpp with -mavx2 -mfma (32-byte vectors). Each
// includer defines ROTOR_GEMM_NS and ROTOR_GEMM_VECTOR_BYTES first, so the
// two copies live in different namespaces and never collide at link time.
//
// Loop order: columns of C in NC-wide blocks, K in KC-deep blocks (B block
// packed into NR-wide panels, kept in L3/L2), rows in MC-high blocks (A block
// packed into MR-high panels scaled by alpha, kept in L2), then an MR x NR
// micro-kernel whose accumulators stay in vector registers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemm_entry.h"

#ifndef ROTOR_GEMM_NS
#error "define ROTOR_GEMM_NS and ROTOR_GEMM_VECTOR_BYTES before including gemm_block.h"
#endif

namespace rotor::cpu::ROTOR_GEMM_NS {


template <class T>
struct Blocking {
  static constexpr int lanes = ROTOR_GEMM_VECTOR_BYTES / static_cast<int>(sizeof(T));
  static constexpr int mr = 6;
  static constexpr int nr = 2 * lanes;
  static constexpr int kc = 256;
  static constexpr int mc = 120;  // multiple of mr; A block = mc*kc elements (~120 KiB for float)
  static constexpr int nc = 1024 / static_cast<int>(sizeof(T)) * 4;  // multiple of nr
  static constexpr size_t pack_a_elems = static_cast<size_t>(mc) * kc;
  static constexpr size_t pack_b_elems = static_cast<size_t>(kc) * nc;
};

// (A struct typedef: GCC drops vector_size on alias templates.)
template <class T>
struct VectorOf {
  typedef T type __attribute__((vector_size(ROTOR_GEMM_VECTOR_BYTES)));
};

// Panels of mr rows of op(A)[i0:i0+mc, p0:p0+kc] times alpha, zero padded:
// out[panel][p][r].
template <class T>
void pack_a(const GemmCall<T>& g, int64_t i0, int64_t p0, int mc, int kc, T* out) {
  constexpr int mr = Blocking<T>::mr;
  for (int ir = 0; ir < mc; ir += mr) {
    const int rows = std::min(mr, mc - ir);
    for (int r = 0; r < mr; ++r) {
      T* dst = out + r;
      if (r >= rows) {
        for (int p = 0; p < kc; ++p) dst[p * mr] = T(0);
        continue;
      }
      const int64_t i = i0 + ir + r;
      if (!g.trans_a) {
        const T* src = g.a + i * g.lda + p0;
        for (int p = 0; p < kc; ++p) dst[p * mr] = g.alpha * src[p];
      } else {
        const T* src = g.a + p0 * g.lda + i;
        for (int p = 0; p < kc; ++p) dst[p * mr] = g.alpha * src[p * g.lda];
      }
    }
    out += static_cast<size_t>(mr) * kc;
  }
}

// Panels of nr columns of op(B)[p0:p0+kc, j0:j0+nc], zero padded:
// out[panel][p][c].
template <class T>
void pack_b(const GemmCall<T>& g, int64_t p0, int64_t j0, int kc, int nc, T* out) {
  constexpr int nr = Blocking<T>::nr;
  for (int jr = 0; jr < nc; jr += nr) {
    const int cols = std::min(nr, nc - jr);
    if (!g.trans_b) {
      for (int p = 0; p < kc; ++p) {
        T* dst = out + static_cast<size_t>(p) * nr;
        const T* src = g.b + (p0 + p) * g.ldb + j0 + jr;
        for (int c = 0; c < cols; ++c) dst[c] = src[c];
        for (int c = cols; c < nr; ++c) dst[c] = T(0);
      }
    } else {
      // op(B) = B^T: each panel column is a contiguous row of B. Read it in
      // order (striding across the rows instead, ldb apart, puts all nr
      // reads of a step in one cache set when ldb is a multiple of 1024
      // floats, as in the conv weight gradient).
      for (int c = 0; c < nr; ++c) {
        T* dst = out + c;
        if (c >= cols) {
          for (int p = 0; p < kc; ++p) dst[static_cast<size_t>(p) * nr] = T(0);
          continue;
        }
        const T* src = g.b + (j0 + jr + c) * g.ldb + p0;
        for (int p = 0; p < kc; ++p) dst[static_cast<size_t>(p) * nr] = src[p];
      }
    }
    out += static_cast<size_t>(nr) * kc;
  }
}

// C[0:rows, 0:cols] = acc + beta * C over one mr x nr tile (beta == 0: C not read).
template <class T>
inline void micro_kernel(int kc, const T* __restrict a, const T* __restrict b, T* c, int64_t ldc, int rows,
                         int cols, T beta) {
  using V = typename VectorOf<T>::type;
  constexpr int mr = Blocking<T>::mr;
  constexpr int nr = Blocking<T>::nr;
  constexpr int lanes = Blocking<T>::lanes;
  constexpr int nv = nr / lanes;
  V acc[mr][nv];
#pragma GCC unroll 8
  for (int r = 0; r < mr; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < nv; ++v) acc[r][v] = V{};
  for (int p = 0; p < kc; ++p) {
    V bv[nv];
#pragma GCC unroll 4
    for (int v = 0; v < nv; ++v) std::memcpy(&bv[v], b + v * lanes, sizeof(V));
#pragma GCC unroll 8
    for (int r = 0; r < mr; ++r) {
      const V av = V{} + a[r];
#pragma GCC unroll 4
      for (int v = 0; v < nv; ++v) acc[r][v] += av * bv[v];
    }
    a += mr;
    b += nr;
  }
  if (rows == mr && cols == nr) {
    for (int r = 0; r < mr; ++r)
      for (int v = 0; v < nv; ++v) {
        T* dst = c + r * ldc + v * lanes;
        V out = acc[r][v];
        if (beta != T(0)) {
          V old;
          std::memcpy(&old, dst, sizeof(V));
          out += beta * old;
        }
        std::memcpy(dst, &out, sizeof(V));
      }
    return;
  }
  T tile[mr][nr];
  std::memcpy(tile, acc, sizeof(tile));
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cols; ++j) {
      T* dst = c + r * ldc + j;
      *dst = beta != T(0) ? tile[r][j] + beta * *dst : tile[r][j];
    }
}

// C[i_begin:i_end, j_begin:j_end] of the product; pack buffers hold
// Blocking<T>::pack_a_elems and pack_b_elems elements.
template <class T>
void gemm_block(const GemmCall<T>& g, int64_t i_begin, int64_t i_end, int64_t j_begin, int64_t j_end, T* pack_a_buf,
                T* pack_b_buf) {
  using B = Blocking<T>;
  for (int64_t jc = j_begin; jc < j_end; jc += B::nc) {
    const int nc = static_cast<int>(std::min<int64_t>(B::nc, j_end - jc));
    for (int64_t pc = 0; pc < g.k; pc += B::kc) {
      const int kc = static_cast<int>(std::min<int64_t>(B::kc, g.k - pc));
      const T beta = pc == 0 ? g.beta : T(1);
      pack_b(g, pc, jc, kc, nc, pack_b_buf);
      for (int64_t ic = i_begin; ic < i_end; ic += B::mc) {
        const int mc = static_cast<int>(std::min<int64_t>(B::mc, i_end - ic));
        pack_a(g, ic, pc, mc, kc, pack_a_buf);
        for (int jr = 0; jr < nc; jr += B::nr) {
          const T* bp = pack_b_buf + static_cast<size_t>(jr) * kc;
          for (int ir = 0; ir < mc; ir += B::mr) {
            const T* ap = pack_a_buf + static_cast<size_t>(ir) * kc;
            T* cp = g.c + (ic + ir) * g.ldc + jc + jr;
            micro_kernel<T>(kc, ap, bp, cp, g.ldc, std::min(B::mr, mc - ir), std::min(B::nr, nc - jr), beta);
          }
        }
      }
    }
  }
}

}  // namespace rotor::cpu::ROTOR_GEMM_NS
