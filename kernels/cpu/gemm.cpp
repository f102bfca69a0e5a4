// cpu::gemm: argument checks, the choice of compiled copy (AVX2+FMA or
// portable) and the split of C across the thread pool.
#define ROTOR_GEMM_NS portable
#define ROTOR_GEMM_VECTOR_BYTES 16
#include "kernels/cpu/gemm_block.h"
#include "kernels/gemm.h"

#include <type_traits>

#include "engine/context.h"
#include "engine/error.h"
#include "kernels/cpu/gemm_entry.h"

namespace rotor::cpu {
namespace {

template <class T>
struct Backend {
  GemmTiling tiling;
  void (*block)(const GemmCall<T>&, int64_t, int64_t, int64_t, int64_t, T*, T*);
};

template <class T>
void portable_block(const GemmCall<T>& call, int64_t i0, int64_t i1, int64_t j0, int64_t j1, T* pa, T* pb) {
  portable::gemm_block(call, i0, i1, j0, j1, pa, pb);
}

template <class T>
Backend<T> choose_backend(const Context& ctx) {
  if constexpr (std::is_same_v<T, float>) {
    if (ctx.cpu_has_avx2_fma()) return {gemm_tiling_avx2_f32(), gemm_block_avx2_f32};
  }
  (void)ctx;
  using B = portable::Blocking<T>;
  return {{B::mr, B::nr, B::pack_a_elems, B::pack_b_elems}, portable_block<T>};
}

template <class T>
void check_args(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb,
                int64_t ldc) {
  ROTOR_CHECK(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m={} n={} k={}", m, n, k);
  ROTOR_CHECK(lda >= std::max<int64_t>(1, trans_a ? m : k), "gemm: lda={} too small", lda);
  ROTOR_CHECK(ldb >= std::max<int64_t>(1, trans_b ? k : n), "gemm: ldb={} too small", ldb);
  ROTOR_CHECK(ldc >= std::max<int64_t>(1, n), "gemm: ldc={} too small", ldc);
}

// C = beta * C when there is nothing to multiply.
template <class T>
void scale_c(int64_t m, int64_t n, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
}

template <class T>
T* scratch(Context& ctx, Context::Scratch slot, int thread, size_t elems) {
  return static_cast<T*>(ctx.host_scratch(slot, thread, elems * sizeof(T)));
}

}  // namespace

template <class T>
void gemm_serial(Context& ctx, int thread, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                 const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  check_args<T>(trans_a, trans_b, m, n, k, lda, ldb, ldc);
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == T(0)) return scale_c(m, n, beta, c, ldc);
  const Backend<T> be = choose_backend<T>(ctx);
  const GemmCall<T> call{trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc};
  be.block(call, 0, m, 0, n, scratch<T>(ctx, Context::Scratch::gemm_a, thread, be.tiling.pack_a_elems),
           scratch<T>(ctx, Context::Scratch::gemm_b, thread, be.tiling.pack_b_elems));
}

template <class T>
void gemm(Context& ctx, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  check_args<T>(trans_a, trans_b, m, n, k, lda, ldb, ldc);
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == T(0)) return scale_c(m, n, beta, c, ldc);
  const Backend<T> be = choose_backend<T>(ctx);
  const GemmCall<T> call{trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc};

  // Below ~0.25 MFLOP a thread hand-off costs more than it saves.
  const bool small = static_cast<double>(m) * n * k < 1 << 17;
  const int threads = small ? 1 : ctx.pool().size();
  // Split the longer side of C into whole micro-tiles, one range per thread.
  const bool split_cols = n >= m;
  const int64_t unit = split_cols ? be.tiling.nr : be.tiling.mr;
  const int64_t tiles = ((split_cols ? n : m) + unit - 1) / unit;
  const int64_t parts = std::min<int64_t>(threads, tiles);
  auto run = [&](int64_t begin, int64_t end, int thread) {
    T* pa = scratch<T>(ctx, Context::Scratch::gemm_a, thread, be.tiling.pack_a_elems);
    T* pb = scratch<T>(ctx, Context::Scratch::gemm_b, thread, be.tiling.pack_b_elems);
    for (int64_t part = begin; part < end; ++part) {
      const int64_t lo = std::min(tiles * part / parts * unit, split_cols ? n : m);
      const int64_t hi = std::min(tiles * (part + 1) / parts * unit, split_cols ? n : m);
      if (lo >= hi) continue;
      if (split_cols)
        be.block(call, 0, m, lo, hi, pa, pb);
      else
        be.block(call, lo, hi, 0, n, pa, pb);
    }
  };
  if (parts <= 1)
    run(0, 1, 0);
  else
    ctx.pool().parallel_for(parts, run);
}

#define ROTOR_INSTANTIATE_GEMM(T)                                                                         \
  template void gemm<T>(Context&, bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*,  \
                        int64_t, T, T*, int64_t);                                                          \
  template void gemm_serial<T>(Context&, int, bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, \
                               const T*, int64_t, T, T*, int64_t);
ROTOR_INSTANTIATE_GEMM(float)
ROTOR_INSTANTIATE_GEMM(double)

}  // namespace rotor::cpu
