// CUDA conv2d on tensor cores: forward, backward_data and backward_weight
// as implicit GEMMs with warp-level mma.sync m16n8k8 and FP32 accumulation,
// in one of two operand formats (Context precision): TF32 on sm_80+, FP16
// on sm_75+ (the 2080 Ti's tensor cores). Twins: the CPU reference
// kernels/cpu/conv2d.cpp (im2col + GEMM in FP32) and the FP32 SIMT kernels
// of kernels/cuda/conv2d.cu, which own the cuda::conv2d_* entry points and
// call these when detail::mma_kind(ctx) says so. The GEMMs:
//
//   problem          M (rows)   N (columns)        K (reduction)
//   forward          C_out      N * Ho * Wo        C_in * KH * KW
//   backward_data    C_in       N * H * W          C_out * KH * KW
//   backward_weight  C_out      C_in * KH * KW     N * Ho * Wo   (split over K)
//
// One mainloop serves the three problems and both formats. A block of 256
// threads (8 warps) owns a BM x BN output tile (64x64, 32x128 or 16x256:
// the same choice as the SIMT path, so 16/32/64 channels and N = 9*C waste
// little); each warp a 32x16 or 16x32 part of it, i.e. 2x2 or 1x4 mma tiles
// of 16x8. K goes in steps of 16 (two k8 mma steps) through two
// shared-memory stages: while step s is multiplied, step s+1 is already
// being copied in with cp.async, one __syncthreads per step. A is kept
// [m][k] and B [k][n] in shared memory as FP32, rows padded (20 and BN+8
// floats) so the TF32 fragment reads of a warp hit 32 different banks (the
// FP16 reads, two k per register, see some 2-way conflicts). The operand
// format is a policy (Tf32Mma, F16Mma): how a fragment is read from the
// FP32 tiles and converted (cvt.rna to TF32; round to nearest even to FP16),
// and which mma is issued. Sums are FP32 in the tensor core.
//
// FP16's range: its largest value is 65504 and its normal range ends at
// 2^-14 (6.1e-5), below which precision fades (subnormals) to zero at 2^-25.
// Gradients routinely live down there, so in FP16 the dy operand (of
// backward_data and backward_weight) is multiplied by a power of two 2^e
// chosen per call from max|dy| on the device (fp16_dy_scale: max|dy| * 2^e
// in [2^14, 2^15)), and the FP32 results by 2^-e: both exact, so the
// scaling changes nothing but which values FP16 can hold. x and w go in
// unscaled: post-BN activations and weights are O(1); one beyond 65504
// becomes inf, the result inf or NaN, which the trainer's non-finite guard
// reports. The scale stays in device memory (the workspace): no host sync,
// so a training step with it can be captured in a CUDA graph.
//
// Copies: the weights of the forward are contiguous along K, so when K is a
// multiple of 4 they arrive as 16-byte cp.async; every gathered element
// (im2col windows, transposed weights, dy) is a 4-byte cp.async whose
// source size is 0 where the window hangs over the padding, which writes
// the zero (on sm_75, which has no cp.async, plain loads and stores: see
// mma.cuh). No per-element decomposition of k or of the output column
// (only backward_data's stride test divides, by FastDiv): each step's 16
// values of k are decomposed once, by 16 threads, into a small table in
// shared memory (double-buffered like the tiles and filled a step ahead);
// each thread's output column (or, for backward_weight, the block's BN
// columns) is decomposed once per block.
//
// backward_weight splits K into slices (grid.z) written to the workspace
// and summed in slice order by conv2d.cu's reduction: deterministic.
//
// Run with: tests/gpu/emulation/run.sh fast "[conv2d_tf32]" (or
// "[conv2d_fp16]"; no GPU needed); timed by build/bench/cuda/bench_cuda
// conv2d_fwd tf32|fp16 (and bwd_data, bwd_weight). The FP16 path has been
// checked only under the emulation: it has never run on a GPU.
#include <cfloat>
#include <type_traits>

#include "kernels/conv2d.h"
#include "kernels/cuda/conv2d_common.cuh"
#include "kernels/cuda/cub_include.cuh"
#include "kernels/cuda/mma.cuh"

#if defined(__CUDA_ARCH__) && !ROTOR_MMA_TF32
// nvcc's sm_75 pass compiles the TF32 kernels to empty bodies (they are
// never launched there), leaving Tf32Mma's functions unreferenced.
#pragma nv_diag_suppress 177
#endif

namespace rotor::cuda::detail {
namespace {

constexpr int tc_bk = 16;           // K per main-loop step: two m16n8k8 steps
constexpr int a_stride = tc_bk + 4;  // floats per As row [m][k]: g*20 + t covers 32 banks; rows 16-byte aligned
constexpr int b_pad = 8;            // Bs rows [k][n] are BN + 8 floats, = 8 (mod 32): t*stride + g covers 32 banks
// An offset that puts any window position far outside the image, so that
// one unsigned bounds test also rejects rows and columns past the GEMM's end.
constexpr int far_away = -(1 << 29);

template <int BM_, int BN_, int WARPS_M>
struct TcTile {
  static constexpr int BM = BM_, BN = BN_;
  static constexpr int WM = WARPS_M, WN = warps_per_block / WARPS_M;  // warps along M and N
  static constexpr int WTM = BM / WM, WTN = BN / WN;                   // one warp's part
  static constexpr int MI = WTM / 16, NI = WTN / 8;                     // its mma tiles
  static constexpr int BS = BN + b_pad;
  static constexpr int A_STAGE = BM * a_stride, B_STAGE = tc_bk * BS;
  static constexpr int A_PER = BM * tc_bk / block_threads;  // A elements each thread copies per step (4-byte)
  static constexpr int B_PER = tc_bk * BN / block_threads;
  static_assert(WM * WN == warps_per_block && MI >= 1 && NI >= 1 && WTM % 16 == 0 && WTN % 8 == 0);
  static_assert(A_PER >= 1 && B_PER >= 1 && block_threads % BN == 0 && BN % tc_bk == 0, "loader mappings need these");
};
using Tc64x64 = TcTile<64, 64, 2>;    // warps 2 x 4, each 32 x 16 (2 x 2 mma tiles)
using Tc32x128 = TcTile<32, 128, 2>;  // warps 2 x 4, each 16 x 32 (1 x 4)
using Tc16x256 = TcTile<16, 256, 1>;  // warps 1 x 8, each 16 x 32 (1 x 4)

// The two stages of A and B and of the k table (Row: the loader's).
template <class T, class Row>
struct Stages {
  float a[2][T::A_STAGE];  // [stage][m * a_stride + k]
  float b[2][T::B_STAGE];  // [stage][k * BS + n]
  Row rows[2][tc_bk];      // [stage][k - k0]
};
// Static shared memory only: every kernel's must fit the 48 KB any
// architecture (sm_75 included) gives a block without the opt-in of
// cudaFuncSetAttribute (64 KB on sm_75, 227 KB on sm_90). The largest,
// 16x256 for backward_weight, takes 39 KB (ptxas: 39,936 bytes).
constexpr size_t static_smem_limit = 48 * 1024;

// The operand formats. Each reads one k8 slice of a warp's A fragment
// (As: its row 0 at the slice's first k, rows a_stride apart) and B
// fragment (Bs: row k of the slice, column 0 of the mma tile, rows BS
// apart) from the FP32 tiles, converting as it goes, and issues the mma.
// `scale` multiplies an operand before conversion (a power of two: FP16's
// dy scaling); TF32 has FP32's exponent range and takes no scale.
struct Tf32Mma {
  static constexpr bool available = ROTOR_MMA_TF32;  // sm_80+
  static constexpr int a_regs = 4, b_regs = 2;
  __device__ __forceinline__ static void load_a(const float* As, int lane, float /*scale*/, uint32_t (&a)[a_regs]) {
#pragma unroll
    for (int i = 0; i < 4; ++i) a[i] = tf32_round(As[frag_a_row(lane, i) * a_stride + frag_a_col(lane, i)]);
  }
  template <int BS>
  __device__ __forceinline__ static void load_b(const float* Bs, int lane, float /*scale*/, uint32_t (&b)[b_regs]) {
#pragma unroll
    for (int i = 0; i < 2; ++i) b[i] = tf32_round(Bs[frag_b_row(lane, i) * BS + frag_b_col(lane, i)]);
  }
  __device__ __forceinline__ static void mma(float (&acc)[4], const uint32_t (&a)[a_regs],
                                             const uint32_t (&b)[b_regs]) {
    mma_m16n8k8_tf32(acc, a, b, acc);
  }
};

struct F16Mma {
  static constexpr bool available = ROTOR_MMA_F16;  // sm_75+
  static constexpr int a_regs = 2, b_regs = 1;
  __device__ __forceinline__ static void load_a(const float* As, int lane, float scale, uint32_t (&a)[a_regs]) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const float* row = As + frag16_a_row(lane, i) * a_stride;
      a[i] = pack_half2(row[frag16_a_col(lane, 0)] * scale, row[frag16_a_col(lane, 1)] * scale);
    }
  }
  template <int BS>
  __device__ __forceinline__ static void load_b(const float* Bs, int lane, float scale, uint32_t (&b)[b_regs]) {
    const int col = frag16_b_col(lane);
    b[0] = pack_half2(Bs[frag16_b_row(lane, 0) * BS + col] * scale, Bs[frag16_b_row(lane, 1) * BS + col] * scale);
  }
  __device__ __forceinline__ static void mma(float (&acc)[4], const uint32_t (&a)[a_regs],
                                             const uint32_t (&b)[b_regs]) {
    mma_m16n8k8_f16(acc, a, b, acc);
  }
};

// What scales the dy operand: {2^e, 2^-e} in device memory, or none.
struct DyScale {
  const float* pair;  // nullptr: 1
  __device__ __forceinline__ float up() const { return pair ? pair[0] : 1.0f; }
  __device__ __forceinline__ float down() const { return pair ? pair[1] : 1.0f; }
};

// acc += (a_scale * As) * (b_scale * Bs) for one step: each warp
// multiplies its WTM x WTN part.
template <class Op, class T>
__device__ __forceinline__ void tc_step(const float* __restrict__ As, const float* __restrict__ Bs,
                                        float (&acc)[T::MI][T::NI][4], int wm0, int wn0, int lane, float a_scale,
                                        float b_scale) {
#pragma unroll
  for (int ks = 0; ks < tc_bk; ks += 8) {
    uint32_t a[T::MI][Op::a_regs], b[T::NI][Op::b_regs];
#pragma unroll
    for (int mi = 0; mi < T::MI; ++mi) Op::load_a(As + (wm0 + mi * 16) * a_stride + ks, lane, a_scale, a[mi]);
#pragma unroll
    for (int ni = 0; ni < T::NI; ++ni)
      Op::template load_b<T::BS>(Bs + ks * T::BS + wn0 + ni * 8, lane, b_scale, b[ni]);
#pragma unroll
    for (int mi = 0; mi < T::MI; ++mi)
#pragma unroll
      for (int ni = 0; ni < T::NI; ++ni) Op::mma(acc[mi][ni], a[mi], b[ni]);
  }
}

// Shared by the three problems; all threads must call it. The loader gives
//   fill_row(k, k_end, row)        the table entry of GEMM row k (k >= k_end: none)
//   issue(rows, k0, As, Bs)        cp.async of step k0's A and B tiles
// Step s+1's table is filled during step s-1 (or before the loop), its
// copies issued during step s; the one __syncthreads per step both makes
// step s visible and ends every read of the buffers it is about to refill.
// a_scale and b_scale as in tc_step.
template <class Op, class T, class L>
__device__ __forceinline__ void tc_mainloop(const L& ld, uint32_t k_begin, uint32_t k_end,
                                            Stages<T, typename L::Row>& st, float (&acc)[T::MI][T::NI][4],
                                            float a_scale = 1.0f, float b_scale = 1.0f) {
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int wm0 = (warp / T::WN) * T::WTM, wn0 = (warp % T::WN) * T::WTN;
  if (k_begin >= k_end) return;  // uniform over the block
  const uint32_t steps = (k_end - k_begin + tc_bk - 1) / tc_bk;
  if (tid < tc_bk) ld.fill_row(k_begin + tid, k_end, st.rows[0][tid]);
  __syncthreads();
  ld.issue(st.rows[0], k_begin, st.a[0], st.b[0]);
  cp_async_commit();
  if (steps > 1 && tid < tc_bk) ld.fill_row(k_begin + tc_bk + tid, k_end, st.rows[1][tid]);
  for (uint32_t s = 0; s < steps; ++s) {
    const int cur = s & 1;
    cp_async_wait_all();
    __syncthreads();
    if (s + 1 < steps) {
      ld.issue(st.rows[cur ^ 1], k_begin + (s + 1) * tc_bk, st.a[cur ^ 1], st.b[cur ^ 1]);
      cp_async_commit();
    }
    if (s + 2 < steps && tid < tc_bk) ld.fill_row(k_begin + (s + 2) * tc_bk + tid, k_end, st.rows[cur][tid]);
    tc_step<Op, T>(st.a[cur], st.b[cur], acc, wm0, wn0, lane, a_scale, b_scale);
  }
}

// Calls out(row, col, value) for every accumulator element inside M x N.
template <class T, class Out>
__device__ __forceinline__ void tc_epilogue(const ConvGeom& g, uint32_t m0, uint32_t n0,
                                            const float (&acc)[T::MI][T::NI][4], const Out& out) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const uint32_t wm0 = m0 + (warp / T::WN) * T::WTM, wn0 = n0 + (warp % T::WN) * T::WTN;
#pragma unroll
  for (int mi = 0; mi < T::MI; ++mi)
#pragma unroll
    for (int ni = 0; ni < T::NI; ++ni)
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const uint32_t m = wm0 + mi * 16 + frag_c_row(lane, r), n = wn0 + ni * 8 + frag_c_col(lane, r);
        if (m < g.M && n < g.N) out(m, n, acc[mi][ni][r]);
      }
}

// ---- forward: y[n, co, p] = sum_k w[co, k] * im2col(x)[k, (n, p)] ---------
//
// A = w (C_out, K) row-major. B's column (output pixel) is fixed per thread
// (column tid % BN, rows tid / BN + j * 256 / BN); its window's top-left
// and image offset are computed once.
template <class T>
struct TcForwardLoader {
  struct Row {
    int off, kh, kw;  // ci * H * W + kh * W + kw; kh = far_away past K
  };
  const ConvGeom& g;
  const float* __restrict__ x;
  const float* __restrict__ w;
  uint32_t m0;
  bool vec_a;  // w rows start 16-byte aligned: copy A 4 floats at a time
  int col_off, ih0, iw0;

  __device__ TcForwardLoader(const ConvGeom& geom, const float* x_, const float* w_, uint32_t m_begin,
                             uint32_t n_begin)
      : g(geom), x(x_), w(w_), m0(m_begin) {
    vec_a = g.K % 4 == 0 && (reinterpret_cast<uintptr_t>(w) & 15) == 0;
    const uint32_t n = n_begin + threadIdx.x % T::BN;
    uint32_t img = 0, pix = 0, oh = 0, ow = 0;
    if (n < g.N) {
      g.hwo.divmod(n, img, pix);
      g.wo_div.divmod(pix, oh, ow);
    }
    ih0 = static_cast<int>(oh * g.stride) - static_cast<int>(g.pad);
    iw0 = static_cast<int>(ow * g.stride) - static_cast<int>(g.pad);
    col_off = static_cast<int>(img * g.c_in * g.h * g.w) + ih0 * static_cast<int>(g.w) + iw0;
    if (n >= g.N) ih0 = far_away;
  }

  __device__ __forceinline__ void fill_row(uint32_t k, uint32_t k_end, Row& r) const {
    if (k >= k_end) {
      r = {0, far_away, 0};
      return;
    }
    uint32_t ci, rem, kh, kw;
    g.khw.divmod(k, ci, rem);
    g.kw_div.divmod(rem, kh, kw);
    r = {static_cast<int>((ci * g.h + kh) * g.w + kw), static_cast<int>(kh), static_cast<int>(kw)};
  }

  __device__ __forceinline__ void issue(const Row* rows, uint32_t k0, float* As, float* Bs) const {
    if (vec_a) {
      for (int v = threadIdx.x; v < T::BM * 4; v += block_threads) {
        const uint32_t m = m0 + v / 4, k = k0 + (v % 4) * 4;
        const bool ok = m < g.M && k < g.K;  // K % 4 == 0: all four or none
        cp_async16(As + (v / 4) * a_stride + (v % 4) * 4, ok ? w + m * g.K + k : w, ok);
      }
    } else {
#pragma unroll
      for (int e = 0; e < T::A_PER; ++e) {
        const uint32_t idx = threadIdx.x + e * block_threads;
        const uint32_t m = m0 + idx / tc_bk, k = k0 + idx % tc_bk;
        const bool ok = m < g.M && k < g.K;
        cp_async4(As + (idx / tc_bk) * a_stride + idx % tc_bk, ok ? w + m * g.K + k : w, ok);
      }
    }
    const int col = threadIdx.x % T::BN;
#pragma unroll
    for (int j = 0; j < T::B_PER; ++j) {
      const int kk = threadIdx.x / T::BN + j * (block_threads / T::BN);
      const Row r = rows[kk];
      const bool ok = static_cast<uint32_t>(ih0 + r.kh) < g.h && static_cast<uint32_t>(iw0 + r.kw) < g.w;
      cp_async4(Bs + kk * T::BS + col, ok ? x + (col_off + r.off) : x, ok);
    }
  }
};

// Kernels of a format the target lacks compile to empty bodies (never
// launched: the host checks the device).
template <class Op, class T>
__global__ void __launch_bounds__(block_threads)
    conv_forward_mma_kernel(const ConvGeom g, const float* __restrict__ x, const float* __restrict__ w,
                            float* __restrict__ y) {
  if constexpr (Op::available) {
    using L = TcForwardLoader<T>;
    __shared__ __align__(16) Stages<T, typename L::Row> st;
    static_assert(sizeof(st) <= static_smem_limit, "static shared memory over 48 KB");
    const uint32_t m0 = blockIdx.y * T::BM, n0 = blockIdx.x * T::BN;
    float acc[T::MI][T::NI][4] = {};
    const L ld(g, x, w, m0, n0);
    tc_mainloop<Op, T>(ld, 0, g.K, st, acc);
    tc_epilogue<T>(g, m0, n0, acc, [&](uint32_t co, uint32_t n, float v) {
      uint32_t img, pix;
      g.hwo.divmod(n, img, pix);
      y[(img * g.c_out + co) * g.hwo.divisor + pix] = v;  // y (N, C_out, Ho*Wo)
    });
  }
}

// ---- backward_data: dx[n, ci, p] = sum_(co, kh, kw) w[co, ci, kh, kw] dy[n, co, q]
//
// q is the output position whose window puts (kh, kw) on input pixel p:
// oh = (ih + pad - kh) / stride when that divides exactly and is in range.
// A = w transposed, gathered; B's column (input pixel) is fixed per thread.
template <class T>
struct TcDataLoader {
  struct Row {
    int a_off;  // co * C_in * KH*KW + (kh * KW + kw): w[co, 0, kh, kw]; -1 past K
    int b_off;  // co * Ho * Wo
    int kh, kw;  // kh = -far_away past K
  };
  const ConvGeom& g;
  const float* __restrict__ dy;
  const float* __restrict__ w;
  uint32_t m0;
  int img_off, ihp, iwp;  // dy image offset; ih + pad, iw + pad of the column

  __device__ TcDataLoader(const ConvGeom& geom, const float* dy_, const float* w_, uint32_t m_begin,
                          uint32_t n_begin)
      : g(geom), dy(dy_), w(w_), m0(m_begin) {
    const uint32_t n = n_begin + threadIdx.x % T::BN;
    uint32_t img = 0, pix = 0, r = 0, c = 0;
    if (n < g.N) {
      g.hwi.divmod(n, img, pix);
      g.wi_div.divmod(pix, r, c);
    }
    img_off = static_cast<int>(img * g.c_out * g.hwo.divisor);
    ihp = n < g.N ? static_cast<int>(r + g.pad) : far_away;
    iwp = static_cast<int>(c + g.pad);
  }

  __device__ __forceinline__ void fill_row(uint32_t k, uint32_t k_end, Row& r) const {
    if (k >= k_end) {
      r = {-1, 0, -far_away, 0};
      return;
    }
    uint32_t co, rem, kh, kw;
    g.khw.divmod(k, co, rem);
    g.kw_div.divmod(rem, kh, kw);
    r = {static_cast<int>(co * g.c_in * g.khw.divisor + rem), static_cast<int>(co * g.hwo.divisor),
         static_cast<int>(kh), static_cast<int>(kw)};
  }

  __device__ __forceinline__ void issue(const Row* rows, uint32_t /*k0*/, float* As, float* Bs) const {
#pragma unroll
    for (int e = 0; e < T::A_PER; ++e) {
      const uint32_t idx = threadIdx.x + e * block_threads;
      const uint32_t m = m0 + idx / tc_bk;
      const int a_off = rows[idx % tc_bk].a_off;
      const bool ok = m < g.M && a_off >= 0;
      cp_async4(As + (idx / tc_bk) * a_stride + idx % tc_bk, ok ? w + (a_off + m * g.khw.divisor) : w, ok);
    }
    const int col = threadIdx.x % T::BN;
#pragma unroll
    for (int j = 0; j < T::B_PER; ++j) {
      const int kk = threadIdx.x / T::BN + j * (block_threads / T::BN);
      const Row r = rows[kk];
      const int oh_s = ihp - r.kh, ow_s = iwp - r.kw;  // oh * stride, ow * stride
      bool ok = oh_s >= 0 && ow_s >= 0;
      uint32_t oh = 0, ow = 0;
      if (ok) {
        uint32_t rh, rw;
        g.stride_div.divmod(static_cast<uint32_t>(oh_s), oh, rh);
        g.stride_div.divmod(static_cast<uint32_t>(ow_s), ow, rw);
        ok = rh == 0 && rw == 0 && oh < g.ho && ow < g.wo;
      }
      cp_async4(Bs + kk * T::BS + col, ok ? dy + (img_off + r.b_off + static_cast<int>(oh * g.wo + ow)) : dy, ok);
    }
  }
};

template <class Op, class T>
__global__ void __launch_bounds__(block_threads)
    conv_backward_data_mma_kernel(const ConvGeom g, const float* __restrict__ dy, const float* __restrict__ w,
                                  DyScale scale, float* __restrict__ dx, bool accumulate) {
  if constexpr (Op::available) {
    using L = TcDataLoader<T>;
    __shared__ __align__(16) Stages<T, typename L::Row> st;
    static_assert(sizeof(st) <= static_smem_limit, "static shared memory over 48 KB");
    const uint32_t m0 = blockIdx.y * T::BM, n0 = blockIdx.x * T::BN;
    float acc[T::MI][T::NI][4] = {};
    const L ld(g, dy, w, m0, n0);
    tc_mainloop<Op, T>(ld, 0, g.K, st, acc, 1.0f, scale.up());  // B is dy
    const float down = scale.down();
    tc_epilogue<T>(g, m0, n0, acc, [&](uint32_t ci, uint32_t n, float v) {
      uint32_t img, pix;
      g.hwi.divmod(n, img, pix);
      float* p = dx + (img * g.c_in + ci) * g.hwi.divisor + pix;  // dx (N, C_in, H*W)
      *p = accumulate ? *p + v * down : v * down;
    });
  }
}

// ---- backward_weight: dw[co, (ci, kh, kw)] += sum_(n, q) dy[n, co, q] * im2col(x)[(ci, kh, kw), (n, q)]
//
// K runs over output pixels: the step's 16 pixels are decomposed into the
// row table, the block's BN columns (ci, kh, kw) once into a column table.
// 16 consecutive threads copy 16 consecutive pixels of a row (coalesced
// for stride 1).
template <class T>
struct TcWeightLoader {
  struct Row {
    int a_off;   // img * C_out * Ho*Wo + pix: dy[img, 0, pix]; -1 past the slice
    int x_base;  // img * C_in * H*W + ih0 * W + iw0
    int ih0, iw0;  // ih0 = far_away past the slice
  };
  struct Col {
    int off, kh, kw;  // ci * H * W + kh * W + kw; kh = far_away past N
  };
  const ConvGeom& g;
  const float* __restrict__ x;
  const float* __restrict__ dy;
  const Col* cols;  // [BN], shared
  uint32_t m0;

  // Fills the column table (visible after the mainloop's first barrier).
  __device__ TcWeightLoader(const ConvGeom& geom, const float* x_, const float* dy_, Col* cols_, uint32_t m_begin,
                            uint32_t n_begin)
      : g(geom), x(x_), dy(dy_), cols(cols_), m0(m_begin) {
    for (int j = threadIdx.x; j < T::BN; j += block_threads) {
      const uint32_t n = n_begin + j;
      if (n >= g.N) {
        cols_[j] = {0, far_away, 0};
        continue;
      }
      uint32_t ci, rem, kh, kw;
      g.khw.divmod(n, ci, rem);
      g.kw_div.divmod(rem, kh, kw);
      cols_[j] = {static_cast<int>((ci * g.h + kh) * g.w + kw), static_cast<int>(kh), static_cast<int>(kw)};
    }
  }

  __device__ __forceinline__ void fill_row(uint32_t k, uint32_t k_end, Row& r) const {
    if (k >= k_end) {
      r = {-1, 0, far_away, 0};
      return;
    }
    uint32_t img, pix, oh, ow;
    g.hwo.divmod(k, img, pix);
    g.wo_div.divmod(pix, oh, ow);
    const int ih0 = static_cast<int>(oh * g.stride) - static_cast<int>(g.pad);
    const int iw0 = static_cast<int>(ow * g.stride) - static_cast<int>(g.pad);
    r = {static_cast<int>(img * g.c_out * g.hwo.divisor + pix),
         static_cast<int>(img * g.c_in * g.h * g.w) + ih0 * static_cast<int>(g.w) + iw0, ih0, iw0};
  }

  __device__ __forceinline__ void issue(const Row* rows, uint32_t /*k0*/, float* As, float* Bs) const {
#pragma unroll
    for (int e = 0; e < T::A_PER; ++e) {
      const uint32_t idx = threadIdx.x + e * block_threads;
      const uint32_t m = m0 + idx / tc_bk;
      const int a_off = rows[idx % tc_bk].a_off;
      const bool ok = m < g.M && a_off >= 0;
      cp_async4(As + (idx / tc_bk) * a_stride + idx % tc_bk, ok ? dy + (a_off + m * g.hwo.divisor) : dy, ok);
    }
    const int kk = threadIdx.x % tc_bk;
    const Row r = rows[kk];
#pragma unroll
    for (int j = 0; j < T::B_PER; ++j) {
      const int col = threadIdx.x / tc_bk + j * (block_threads / tc_bk);
      const Col c = cols[col];
      const bool ok = static_cast<uint32_t>(r.ih0 + c.kh) < g.h && static_cast<uint32_t>(r.iw0 + c.kw) < g.w;
      cp_async4(Bs + kk * T::BS + col, ok ? x + (r.x_base + c.off) : x, ok);
    }
  }
};

// Slice blockIdx.z of K -> partial[z] (C_out, C_in*KH*KW), every element written.
template <class Op, class T>
__global__ void __launch_bounds__(block_threads)
    conv_backward_weight_mma_kernel(const ConvGeom g, const float* __restrict__ x, const float* __restrict__ dy,
                                    DyScale scale, uint32_t slice_k, float* __restrict__ partial) {
  if constexpr (Op::available) {
    using L = TcWeightLoader<T>;
    __shared__ __align__(16) Stages<T, typename L::Row> st;
    static_assert(sizeof(st) + sizeof(typename L::Col) * T::BN <= static_smem_limit, "static shared memory over 48 KB");
    __shared__ typename L::Col cols[T::BN];
    const uint32_t m0 = blockIdx.y * T::BM, n0 = blockIdx.x * T::BN;
    const uint32_t k_begin = blockIdx.z * slice_k, k_end = min(g.K, k_begin + slice_k);
    float acc[T::MI][T::NI][4] = {};
    const L ld(g, x, dy, cols, m0, n0);
    tc_mainloop<Op, T>(ld, k_begin, k_end, st, acc, scale.up(), 1.0f);  // A is dy
    float* out = partial + blockIdx.z * g.M * g.N;
    const float down = scale.down();
    tc_epilogue<T>(g, m0, n0, acc, [&](uint32_t co, uint32_t n, float v) { out[co * g.N + n] = v * down; });
  }
}

// ---- FP16's dy scale -------------------------------------------------------

// partial[blockIdx.x] = max |x[i]| over the block's grid-stride share (NaN
// is dropped by fmaxf: a NaN in dy makes the results NaN whatever the scale).
__global__ void __launch_bounds__(block_threads)
    absmax_partial_kernel(const float* __restrict__ x, uint32_t n, float* __restrict__ partial) {
  using BlockMax = cub::BlockReduce<float, block_threads>;
  __shared__ typename BlockMax::TempStorage temp;
  float m = 0.0f;
  for (uint32_t i = blockIdx.x * block_threads + threadIdx.x; i < n; i += gridDim.x * block_threads)
    m = fmaxf(m, fabsf(x[i]));
  const float r = BlockMax(temp).Reduce(m, [](float a, float b) { return fmaxf(a, b); });  // thread 0's
  if (threadIdx.x == 0) partial[blockIdx.x] = r;
}

// The largest power of two 2^e that keeps max * 2^e below 2^15 (so max lands
// in [2^14, 2^15): FP16's whole normal range, 29 binades, lies below it,
// and nothing rounds up past 65504), e clamped to [-100, 100] so that 2^e
// and 2^-e are normal floats; 1 for a max of 0, inf or NaN.
__device__ __forceinline__ int fp16_scale_exponent(float max_abs) {
  if (!(max_abs > 0.0f && max_abs <= FLT_MAX)) return 0;
  int e;
  frexpf(max_abs, &e);  // max_abs = f * 2^e, f in [0.5, 1)
  return max(-100, min(100, 15 - e));
}

// One block: scale = {2^e, 2^-e} from the `blocks` partial maxima (at most
// block_threads of them).
__global__ void __launch_bounds__(block_threads)
    fp16_scale_kernel(const float* __restrict__ partial, uint32_t blocks, float* __restrict__ scale) {
  using BlockMax = cub::BlockReduce<float, block_threads>;
  __shared__ typename BlockMax::TempStorage temp;
  const float m = threadIdx.x < blocks ? partial[threadIdx.x] : 0.0f;
  const float r = BlockMax(temp).Reduce(m, [](float a, float b) { return fmaxf(a, b); });
  if (threadIdx.x == 0) {
    const int e = fp16_scale_exponent(r);
    scale[0] = ldexpf(1.0f, e);
    scale[1] = ldexpf(1.0f, -e);
  }
}

// ---- host side -----------------------------------------------------------

template <class F>
void with_tc_tile(TileKind kind, const F& f) {
  switch (kind) {
    case TileKind::t16x256: f(Tc16x256{}); break;
    case TileKind::t32x128: f(Tc32x128{}); break;
    case TileKind::t64x64: f(Tc64x64{}); break;
  }
}

template <class T>
dim3 tc_grid(const ConvGeom& g, uint32_t slices = 1) {
  return dim3((g.N + T::BN - 1) / T::BN, (g.M + T::BM - 1) / T::BM, slices);
}

// Words of the workspace before backward_weight's slices: the scale pair
// (padded to 64) and the partial maxima of absmax_partial_kernel (at most
// block_threads); a multiple of 64 floats keeps what follows 256-byte aligned.
constexpr size_t scale_words = 64 + block_threads;

// {2^e, 2^-e} for dy (n values) in scale_area[0..1] (the workspace's first
// scale_words floats), computed on the device: two launches, no sync.
DyScale fp16_dy_scale(Context& ctx, const float* dy, uint32_t n, float* scale_area) {
  const unsigned blocks = std::min<unsigned>(grid_for(ctx, n), block_threads);
  float* partial = scale_area + 64;
  absmax_partial_kernel<<<blocks, block_threads, 0, stream_of(ctx)>>>(dy, n, partial);
  ROTOR_CUDA_CHECK_LAUNCH();
  fp16_scale_kernel<<<1, block_threads, 0, stream_of(ctx)>>>(partial, blocks, scale_area);
  ROTOR_CUDA_CHECK_LAUNCH();
  return {scale_area};
}

uint32_t dy_numel(const ConvGeom& g) { return g.n * g.c_out * g.hwo.divisor; }  // < 2^31: conv_geom checked

template <class F>
void with_format(Context& ctx, const F& f) {
  switch (mma_kind(ctx)) {
    case MmaKind::tf32: f(Tf32Mma{}); break;
    case MmaKind::f16: f(F16Mma{}); break;
    case MmaKind::none: ROTOR_CUDA_REQUIRE(false, "conv2d", "no tensor-core format for this context and device");
  }
}

}  // namespace

void conv2d_forward_mma(Context& ctx, const ConvGeom& g, const float* x, const float* w, float* y) {
  with_format(ctx, [&](auto format) {
    using Op = decltype(format);
    with_tc_tile(pick_tile(g.M, g.N), [&](auto tile) {
      using T = decltype(tile);
      conv_forward_mma_kernel<Op, T><<<tc_grid<T>(g), block_threads, 0, stream_of(ctx)>>>(g, x, w, y);
      ROTOR_CUDA_CHECK_LAUNCH();
    });
  });
}

void conv2d_backward_data_mma(Context& ctx, const ConvGeom& g, const float* dy, const float* w, float* dx,
                              bool accumulate) {
  with_format(ctx, [&](auto format) {
    using Op = decltype(format);
    DyScale scale{nullptr};
    if constexpr (std::is_same_v<Op, F16Mma>)
      scale = fp16_dy_scale(ctx, dy, dy_numel(g), workspace_as<float>(ctx, scale_words));
    with_tc_tile(pick_tile(g.M, g.N), [&](auto tile) {
      using T = decltype(tile);
      conv_backward_data_mma_kernel<Op, T><<<tc_grid<T>(g), block_threads, 0, stream_of(ctx)>>>(g, dy, w, scale, dx,
                                                                                                 accumulate);
      ROTOR_CUDA_CHECK_LAUNCH();
    });
  });
}

void conv2d_backward_weight_mma(Context& ctx, const ConvGeom& g, const float* x, const float* dy, float* dw) {
  with_format(ctx, [&](auto format) {
    using Op = decltype(format);
    constexpr bool scaled = std::is_same_v<Op, F16Mma>;
    with_tc_tile(pick_tile(g.M, g.N), [&](auto tile) {
      using T = decltype(tile);
      const int64_t tiles = int64_t((g.M + T::BM - 1) / T::BM) * ((g.N + T::BN - 1) / T::BN);
      const SplitK split = split_k(ctx, tiles, g.K, tc_bk);
      const size_t size = size_t(g.M) * g.N;
      ROTOR_CUDA_REQUIRE(size * split.slices <= size_t(max_index), "conv2d_backward_weight",
                         "split-K workspace too large");
      // One request (growing the workspace frees the old buffer): FP16's
      // scale area, then the slices (slices, C_out, C_in*KH*KW).
      const size_t head = scaled ? scale_words : 0;
      float* ws = workspace_as<float>(ctx, head + size * split.slices);
      const DyScale scale = scaled ? fp16_dy_scale(ctx, dy, dy_numel(g), ws) : DyScale{nullptr};
      float* partial = ws + head;
      conv_backward_weight_mma_kernel<Op, T><<<tc_grid<T>(g, split.slices), block_threads, 0, stream_of(ctx)>>>(
          g, x, dy, scale, split.slice_k, partial);
      ROTOR_CUDA_CHECK_LAUNCH();
      reduce_weight_slices(ctx, partial, split.slices, static_cast<uint32_t>(size), dw);
    });
  });
}

}  // namespace rotor::cuda::detail
