// CUDA conv2d (kernels/conv2d.h): forward, backward_data and
// backward_weight as implicit GEMMs in FP32 with shared-memory tiling. No
// im2col buffer: each tile of the virtual im2col matrix is gathered from the
// tensor straight into shared memory, zero padding included.
//
//   problem          M (rows)   N (columns)        K (reduction)
//   forward          C_out      N * Ho * Wo        C_in * KH * KW
//   backward_data    C_in       N * H * W          C_out * KH * KW
//   backward_weight  C_out      C_in * KH * KW     N * Ho * Wo   (split over K)
//
// One kernel skeleton (gemm_mainloop) serves the three: 256 threads compute
// a BM x BN output tile, each thread a 4x4 block, over K in steps of 16; the
// next step's global loads are in flight while the current one is computed
// from shared memory. Each problem has its own Loader, which maps threads to
// elements so that global reads are coalesced and most index arithmetic is
// done once per thread. Tile shapes 16x256, 32x128 and 64x64 are picked to
// waste the least padding for the problem's M and N.
//
// With precision tf32 on an sm_80+ device, or fp16 on an sm_75+ one, the
// entry points hand the same problems to the tensor-core kernels of
// conv2d_mma.cu instead (the
// geometry, tile choice and split-K here are shared: conv2d_common.cuh).
//
// backward_weight has a tiny output and a huge K, so K is split into slices
// (grid.z) writing partial tiles to the workspace, summed in slice order by
// a second kernel: deterministic, no atomics. Forward and backward_data
// write every output element exactly once (assign or accumulate, as the
// GradMode says).
//
// Run with: build/tests/gpu/rotor_gpu_tests "[conv2d]"; timed by
// build/bench/cuda/bench_cuda conv2d_fwd (conv2d_bwd_data, conv2d_bwd_weight).
#include "kernels/conv2d.h"
#include "kernels/cuda/conv2d_common.cuh"

namespace rotor::cuda {
namespace {

using namespace detail;

constexpr int bk = 16;       // K per main-loop step
constexpr int smem_pad = 4;  // floats of padding per shared row (keeps 16-byte alignment)

template <int BM_, int BN_>
struct Tile {
  static constexpr int BM = BM_, BN = BN_;
  static constexpr int TM = BM / 4, TN = BN / 4;  // threads along M and N
  static constexpr int A_PER = BM * bk / block_threads;  // A elements each thread loads per step
  static constexpr int B_PER = bk * BN / block_threads;
  static constexpr int AS = BM + smem_pad, BS = BN + smem_pad;  // shared row strides
  static_assert(TM * TN == block_threads, "a tile has 256 threads of 4x4 outputs");
  static_assert(block_threads % BN == 0 && A_PER >= 1 && B_PER >= 1, "loader mappings need these");
};
using Tile16x256 = Tile<16, 256>;
using Tile32x128 = Tile<32, 128>;
using Tile64x64 = Tile<64, 64>;

// Element `row` = (ci, kh, kw) of the virtual im2col column whose window
// starts at (ih0, iw0) of one image x_img (C_in, H, W): the input value
// under that kernel tap, or 0 in the zero padding.
__device__ __forceinline__ float patch_value(const ConvGeom& g, const float* __restrict__ x_img, uint32_t row, int ih0,
                                             int iw0) {
  uint32_t ci, r, kh, kw;
  g.khw.divmod(row, ci, r);
  g.kw_div.divmod(r, kh, kw);
  const int ih = ih0 + static_cast<int>(kh), iw = iw0 + static_cast<int>(kw);
  if (ih < 0 || ih >= static_cast<int>(g.h) || iw < 0 || iw >= static_cast<int>(g.w)) return 0.0f;
  return __ldg(x_img + (ci * g.h + ih) * g.w + iw);
}

// Shared by the three problems: loads the first step, then for each step
// issues the next step's global loads, multiplies the current shared tiles
// into acc, and stores the loaded step. Must be called by all threads.
template <class T, class Loader>
__device__ __forceinline__ void gemm_mainloop(const Loader& ld, uint32_t k_begin, uint32_t k_end, float* As,
                                              float* Bs, float (&acc)[4][4]) {
  const uint32_t tm = threadIdx.x / T::TN, tn = threadIdx.x % T::TN;
  float ra[T::A_PER], rb[T::B_PER];
  if (k_begin >= k_end) return;  // uniform over the block
  ld.load(k_begin, ra, rb);
  ld.store(ra, rb, As, Bs);
  __syncthreads();
  for (uint32_t k0 = k_begin; k0 < k_end; k0 += bk) {
    const bool more = k0 + bk < k_end;  // uniform
    if (more) ld.load(k0 + bk, ra, rb);
#pragma unroll
    for (int kk = 0; kk < bk; ++kk) {
      const float4 a = *reinterpret_cast<const float4*>(As + kk * T::AS + tm * 4);
      const float4 b = *reinterpret_cast<const float4*>(Bs + kk * T::BS + tn * 4);
      const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();  // every thread is done reading this step's tiles
    if (more) {
      ld.store(ra, rb, As, Bs);
      __syncthreads();
    }
  }
}

// ---- forward: y[n, co, p] = sum_k w[co, k] * im2col(x)[k, (n, p)] ---------
//
// A (weights) is read along k by 16 consecutive threads (a row segment);
// B is read along the output pixels, so a warp reads consecutive input
// columns. Each thread's B column (output pixel) is fixed: its image, row
// and column are computed once.
template <class T>
struct ForwardLoader {
  const ConvGeom& g;
  const float* __restrict__ w;
  const float* __restrict__ x_img;  // the image of this thread's B column
  uint32_t m0;
  int ih0, iw0;  // top-left input position of the column's window
  bool n_ok;

  __device__ ForwardLoader(const ConvGeom& geom, const float* x, const float* weights, uint32_t m_begin,
                           uint32_t n_begin)
      : g(geom), w(weights), m0(m_begin) {
    const uint32_t n = n_begin + threadIdx.x % T::BN;
    n_ok = n < g.N;
    uint32_t img = 0, pix = 0, oh = 0, ow = 0;
    if (n_ok) {
      g.hwo.divmod(n, img, pix);
      g.wo_div.divmod(pix, oh, ow);
    }
    x_img = x + img * g.c_in * g.h * g.w;
    ih0 = static_cast<int>(oh * g.stride) - static_cast<int>(g.pad);
    iw0 = static_cast<int>(ow * g.stride) - static_cast<int>(g.pad);
  }

  __device__ __forceinline__ void load(uint32_t k0, float (&ra)[T::A_PER], float (&rb)[T::B_PER]) const {
#pragma unroll
    for (int e = 0; e < T::A_PER; ++e) {
      const uint32_t idx = threadIdx.x + e * block_threads;
      const uint32_t m = m0 + idx / bk, k = k0 + idx % bk;
      ra[e] = (m < g.M && k < g.K) ? __ldg(w + m * g.K + k) : 0.0f;
    }
#pragma unroll
    for (int e = 0; e < T::B_PER; ++e) {
      const uint32_t k = k0 + (threadIdx.x + e * block_threads) / T::BN;
      rb[e] = (n_ok && k < g.K) ? patch_value(g, x_img, k, ih0, iw0) : 0.0f;
    }
  }

  __device__ __forceinline__ void store(const float (&ra)[T::A_PER], const float (&rb)[T::B_PER], float* As,
                                        float* Bs) const {
#pragma unroll
    for (int e = 0; e < T::A_PER; ++e) {
      const uint32_t idx = threadIdx.x + e * block_threads;
      As[(idx % bk) * T::AS + idx / bk] = ra[e];
    }
#pragma unroll
    for (int e = 0; e < T::B_PER; ++e) {
      const uint32_t idx = threadIdx.x + e * block_threads;
      Bs[(idx / T::BN) * T::BS + idx % T::BN] = rb[e];
    }
  }
};

template <class T>
__global__ void __launch_bounds__(block_threads)
    conv_forward_kernel(const ConvGeom g, const float* __restrict__ x, const float* __restrict__ w,
                        float* __restrict__ y) {
  __shared__ __align__(16) float As[bk * T::AS];
  __shared__ __align__(16) float Bs[bk * T::BS];
  const uint32_t m0 = blockIdx.y * T::BM, n0 = blockIdx.x * T::BN;
  float acc[4][4] = {};
  const ForwardLoader<T> ld(g, x, w, m0, n0);
  gemm_mainloop<T>(ld, 0, g.K, As, Bs, acc);
  const uint32_t tm = threadIdx.x / T::TN, tn = threadIdx.x % T::TN;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const uint32_t n = n0 + tn * 4 + j;
    if (n >= g.N) continue;
    uint32_t img, pix;
    g.hwo.divmod(n, img, pix);
    float* out = y + img * g.c_out * g.hwo.divisor + pix;  // y (N, C_out, Ho*Wo)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const uint32_t m = m0 + tm * 4 + i;
      if (m < g.M) out[m * g.hwo.divisor] = acc[i][j];
    }
  }
}

// ---- backward_data: dx[n, ci, p] = sum_(co, kh, kw) w[co, ci, kh, kw] dy[n, co, q]
//
// q is the output position whose window puts (kh, kw) on input pixel p:
// oh = (ih + pad - kh) / stride when that divides exactly and is in range.
// A (weights, transposed) is read with consecutive threads along ci; B along
// the input pixels, fixed per thread as in the forward.
template <class T>
struct DataLoader {
  const ConvGeom& g;
  const float* __restrict__ w;
  const float* __restrict__ dy_img;  // the image of this thread's B column
  uint32_t m0;
  int ih, iw;
  bool n_ok;

  __device__ DataLoader(const ConvGeom& geom, const float* dy, const float* weights, uint32_t m_begin,
                        uint32_t n_begin)
      : g(geom), w(weights), m0(m_begin) {
    const uint32_t n = n_begin + threadIdx.x % T::BN;
    n_ok = n < g.N;
    uint32_t img = 0, pix = 0, r = 0, c = 0;
    if (n_ok) {
      g.hwi.divmod(n, img, pix);
      g.wi_div.divmod(pix, r, c);
    }
    dy_img = dy + img * g.c_out * g.hwo.divisor;
    ih = static_cast<int>(r) + static_cast<int>(g.pad);
    iw = static_cast<int>(c) + static_cast<int>(g.pad);
  }

  __device__ __forceinline__ void load(uint32_t k0, float (&ra)[T::A_PER], float (&rb)[T::B_PER]) const {
#pragma unroll
    for (int e = 0; e < T::A_PER; ++e) {
      const uint32_t idx = threadIdx.x + e * block_threads;
      const uint32_t m = m0 + idx % T::BM, k = k0 + idx / T::BM;
      float v = 0.0f;
      if (m < g.M && k < g.K) {
        uint32_t co, r;
        g.khw.divmod(k, co, r);
        v = __ldg(w + (co * g.c_in + m) * g.khw.divisor + r);  // w (C_out, C_in, KH*KW)
      }
      ra[e] = v;
    }
#pragma unroll
    for (int e = 0; e < T::B_PER; ++e) {
      const uint32_t k = k0 + (threadIdx.x + e * block_threads) / T::BN;
      float v = 0.0f;
      if (n_ok && k < g.K) {
        uint32_t co, r, kh, kw;
        g.khw.divmod(k, co, r);
        g.kw_div.divmod(r, kh, kw);
        const int oh_s = ih - static_cast<int>(kh), ow_s = iw - static_cast<int>(kw);  // oh * stride, ow * stride
        if (oh_s >= 0 && ow_s >= 0) {
          uint32_t oh, rh, ow, rw;
          g.stride_div.divmod(static_cast<uint32_t>(oh_s), oh, rh);
          g.stride_div.divmod(static_cast<uint32_t>(ow_s), ow, rw);
          if (rh == 0 && rw == 0 && oh < g.ho && ow < g.wo) v = __ldg(dy_img + (co * g.ho + oh) * g.wo + ow);
        }
      }
      rb[e] = v;
    }
  }

  __device__ __forceinline__ void store(const float (&ra)[T::A_PER], const float (&rb)[T::B_PER], float* As,
                                        float* Bs) const {
#pragma unroll
    for (int e = 0; e < T::A_PER; ++e) {
      const uint32_t idx = threadIdx.x + e * block_threads;
      As[(idx / T::BM) * T::AS + idx % T::BM] = ra[e];
    }
#pragma unroll
    for (int e = 0; e < T::B_PER; ++e) {
      const uint32_t idx = threadIdx.x + e * block_threads;
      Bs[(idx / T::BN) * T::BS + idx % T::BN] = rb[e];
    }
  }
};

template <class T>
__global__ void __launch_bounds__(block_threads)
    conv_backward_data_kernel(const ConvGeom g, const float* __restrict__ dy, const float* __restrict__ w,
                              float* __restrict__ dx, bool accumulate) {
  __shared__ __align__(16) float As[bk * T::AS];
  __shared__ __align__(16) float Bs[bk * T::BS];
  const uint32_t m0 = blockIdx.y * T::BM, n0 = blockIdx.x * T::BN;
  float acc[4][4] = {};
  const DataLoader<T> ld(g, dy, w, m0, n0);
  gemm_mainloop<T>(ld, 0, g.K, As, Bs, acc);
  const uint32_t tm = threadIdx.x / T::TN, tn = threadIdx.x % T::TN;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const uint32_t n = n0 + tn * 4 + j;
    if (n >= g.N) continue;
    uint32_t img, pix;
    g.hwi.divmod(n, img, pix);
    float* out = dx + img * g.c_in * g.hwi.divisor + pix;  // dx (N, C_in, H*W)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const uint32_t m = m0 + tm * 4 + i;
      if (m >= g.M) continue;
      float* p = out + m * g.hwi.divisor;
      *p = accumulate ? *p + acc[i][j] : acc[i][j];
    }
  }
}

// ---- backward_weight: dw[co, (ci, kh, kw)] += sum_(n, q) dy[n, co, q] * im2col(x)[(ci, kh, kw), (n, q)]
//
// Both operands are read along K (output pixels, consecutive within an
// image), 16 consecutive threads per row, so each thread's k is fixed per
// step and decomposed once for A and B together.
template <class T>
struct WeightLoader {
  const ConvGeom& g;
  const float* __restrict__ x;
  const float* __restrict__ dy;
  uint32_t m0, n0;

  __device__ WeightLoader(const ConvGeom& geom, const float* x_, const float* dy_, uint32_t m_begin, uint32_t n_begin)
      : g(geom), x(x_), dy(dy_), m0(m_begin), n0(n_begin) {}

  __device__ __forceinline__ void load(uint32_t k0, float (&ra)[T::A_PER], float (&rb)[T::B_PER]) const {
    const uint32_t k = k0 + threadIdx.x % bk;
    const bool k_ok = k < g.K;
    uint32_t img = 0, pix = 0, oh = 0, ow = 0;
    if (k_ok) {
      g.hwo.divmod(k, img, pix);
      g.wo_div.divmod(pix, oh, ow);
    }
    const float* dy_k = dy + img * g.c_out * g.hwo.divisor + pix;  // dy[img, :, pix]
    const float* x_img = x + img * g.c_in * g.h * g.w;
    const int ih0 = static_cast<int>(oh * g.stride) - static_cast<int>(g.pad);
    const int iw0 = static_cast<int>(ow * g.stride) - static_cast<int>(g.pad);
#pragma unroll
    for (int e = 0; e < T::A_PER; ++e) {
      const uint32_t m = m0 + (threadIdx.x + e * block_threads) / bk;
      ra[e] = (k_ok && m < g.M) ? __ldg(dy_k + m * g.hwo.divisor) : 0.0f;
    }
#pragma unroll
    for (int e = 0; e < T::B_PER; ++e) {
      const uint32_t n = n0 + (threadIdx.x + e * block_threads) / bk;
      rb[e] = (k_ok && n < g.N) ? patch_value(g, x_img, n, ih0, iw0) : 0.0f;
    }
  }

  __device__ __forceinline__ void store(const float (&ra)[T::A_PER], const float (&rb)[T::B_PER], float* As,
                                        float* Bs) const {
#pragma unroll
    for (int e = 0; e < T::A_PER; ++e) {
      const uint32_t idx = threadIdx.x + e * block_threads;
      As[(idx % bk) * T::AS + idx / bk] = ra[e];
    }
#pragma unroll
    for (int e = 0; e < T::B_PER; ++e) {
      const uint32_t idx = threadIdx.x + e * block_threads;
      Bs[(idx % bk) * T::BS + idx / bk] = rb[e];
    }
  }
};

// Slice blockIdx.z of K -> partial[z] (C_out, C_in*KH*KW), every element written.
template <class T>
__global__ void __launch_bounds__(block_threads)
    conv_backward_weight_kernel(const ConvGeom g, const float* __restrict__ x, const float* __restrict__ dy,
                                uint32_t slice_k, float* __restrict__ partial) {
  __shared__ __align__(16) float As[bk * T::AS];
  __shared__ __align__(16) float Bs[bk * T::BS];
  const uint32_t m0 = blockIdx.y * T::BM, n0 = blockIdx.x * T::BN;
  const uint32_t k_begin = blockIdx.z * slice_k, k_end = min(g.K, k_begin + slice_k);
  float acc[4][4] = {};
  const WeightLoader<T> ld(g, x, dy, m0, n0);
  gemm_mainloop<T>(ld, k_begin, k_end, As, Bs, acc);
  float* out = partial + blockIdx.z * g.M * g.N;
  const uint32_t tm = threadIdx.x / T::TN, tn = threadIdx.x % T::TN;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const uint32_t m = m0 + tm * 4 + i;
    if (m >= g.M) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const uint32_t n = n0 + tn * 4 + j;
      if (n < g.N) out[m * g.N + n] = acc[i][j];
    }
  }
}

// dw[i] += sum over slices of partial[s][i], in slice order (double).
__global__ void __launch_bounds__(block_threads)
    conv_weight_reduce(const float* __restrict__ partial, uint32_t slices, uint32_t size, float* __restrict__ dw) {
  const uint32_t stride = gridDim.x * block_threads;
  for (uint32_t i = blockIdx.x * block_threads + threadIdx.x; i < size; i += stride) {
    double sum = 0;
    for (uint32_t s = 0; s < slices; ++s) sum += partial[s * size + i];
    dw[i] += static_cast<float>(sum);
  }
}

// ---- host side -----------------------------------------------------------

// Calls f(Tile{}) with the tile type for `kind`.
template <class F>
void with_tile(TileKind kind, const F& f) {
  switch (kind) {
    case TileKind::t16x256: f(Tile16x256{}); break;
    case TileKind::t32x128: f(Tile32x128{}); break;
    case TileKind::t64x64: f(Tile64x64{}); break;
  }
}

template <class T>
dim3 tile_grid(const ConvGeom& g, uint32_t slices = 1) {
  return dim3((g.N + T::BN - 1) / T::BN, (g.M + T::BM - 1) / T::BM, slices);
}

}  // namespace

namespace detail {

ConvGeom conv_geom(const ConvShape& s, int64_t m, int64_t n, int64_t k, const char* op) {
  ROTOR_CUDA_REQUIRE(s.x_numel() <= max_index && s.y_numel() <= max_index && s.w_numel() <= max_index &&
                         m * n <= max_index && k <= max_index,
                     op, "a tensor has 2^31 or more elements (32-bit indexing)");
  ROTOR_CUDA_REQUIRE(s.n >= 1 && s.c_in >= 1 && s.c_out >= 1 && s.kh >= 1 && s.kw >= 1 && s.stride >= 1 &&
                         s.pad >= 0 && s.h_out() >= 1 && s.w_out() >= 1,
                     op, "invalid convolution shape");
  // Row tiles are gridDim.y (at most 65535): the smallest tile has 16 rows.
  ROTOR_CUDA_REQUIRE((m + 15) / 16 <= 65535, op, "more than 1,048,560 channels");
  auto u = [](int64_t v) { return static_cast<uint32_t>(v); };
  ConvGeom g;
  g.n = u(s.n);
  g.c_in = u(s.c_in);
  g.h = u(s.h);
  g.w = u(s.w);
  g.c_out = u(s.c_out);
  g.kh = u(s.kh);
  g.kw = u(s.kw);
  g.stride = u(s.stride);
  g.pad = u(s.pad);
  g.ho = u(s.h_out());
  g.wo = u(s.w_out());
  g.M = u(m);
  g.N = u(n);
  g.K = u(k);
  g.khw = FastDiv(u(s.kh * s.kw));
  g.kw_div = FastDiv(u(s.kw));
  g.hwo = FastDiv(u(s.h_out() * s.w_out()));
  g.wo_div = FastDiv(u(s.w_out()));
  g.hwi = FastDiv(u(s.h * s.w));
  g.wi_div = FastDiv(u(s.w));
  g.stride_div = FastDiv(u(s.stride));
  return g;
}

TileKind pick_tile(uint32_t m, uint32_t n) {
  auto padded = [&](int64_t bm, int64_t bn) { return ((m + bm - 1) / bm * bm) * ((n + bn - 1) / bn * bn); };
  TileKind best = TileKind::t64x64;
  int64_t best_area = padded(64, 64);
  if (padded(32, 128) < best_area) {
    best = TileKind::t32x128;
    best_area = padded(32, 128);
  }
  if (padded(16, 256) < best_area) best = TileKind::t16x256;
  return best;
}

SplitK split_k(Context& ctx, int64_t tiles, uint32_t k, int step) {
  const int64_t steps = (int64_t(k) + step - 1) / step;
  int64_t slices = (int64_t(sm_count(ctx)) * 4 + tiles - 1) / tiles;
  slices = std::max<int64_t>(1, std::min({slices, steps / 4, int64_t(65535)}));
  const int64_t slice_steps = (steps + slices - 1) / slices;
  slices = (steps + slice_steps - 1) / slice_steps;  // none empty
  return {static_cast<uint32_t>(slices), static_cast<uint32_t>(slice_steps * step)};
}

void reduce_weight_slices(Context& ctx, const float* partial, uint32_t slices, uint32_t size, float* dw) {
  conv_weight_reduce<<<grid_for(ctx, static_cast<int64_t>(size)), block_threads, 0, stream_of(ctx)>>>(partial, slices,
                                                                                                     size, dw);
  ROTOR_CUDA_CHECK_LAUNCH();
}

}  // namespace detail

void conv2d_forward(Context& ctx, const ConvShape& s, const float* x, const float* w, float* y) {
  const ConvGeom g = conv_geom(s, s.c_out, s.n * s.h_out() * s.w_out(), s.c_in * s.kh * s.kw, "conv2d_forward");
  if (use_tensor_cores(ctx)) return conv2d_forward_mma(ctx, g, x, w, y);
  with_tile(pick_tile(g.M, g.N), [&](auto tile) {
    using T = decltype(tile);
    conv_forward_kernel<T><<<tile_grid<T>(g), block_threads, 0, stream_of(ctx)>>>(g, x, w, y);
    ROTOR_CUDA_CHECK_LAUNCH();
  });
}

void conv2d_backward_data(Context& ctx, const ConvShape& s, const float* dy, const float* w, float* dx,
                          GradMode mode) {
  if (!dx) return;
  const ConvGeom g = conv_geom(s, s.c_in, s.n * s.h * s.w, s.c_out * s.kh * s.kw, "conv2d_backward_data");
  if (use_tensor_cores(ctx)) return conv2d_backward_data_mma(ctx, g, dy, w, dx, mode == GradMode::accumulate);
  with_tile(pick_tile(g.M, g.N), [&](auto tile) {
    using T = decltype(tile);
    conv_backward_data_kernel<T><<<tile_grid<T>(g), block_threads, 0, stream_of(ctx)>>>(
        g, dy, w, dx, mode == GradMode::accumulate);
    ROTOR_CUDA_CHECK_LAUNCH();
  });
}

void conv2d_backward_weight(Context& ctx, const ConvShape& s, const float* x, const float* dy, float* dw) {
  if (!dw) return;
  const ConvGeom g = conv_geom(s, s.c_out, s.c_in * s.kh * s.kw, s.n * s.h_out() * s.w_out(), "conv2d_backward_weight");
  if (use_tensor_cores(ctx)) return conv2d_backward_weight_mma(ctx, g, x, dy, dw);
  with_tile(pick_tile(g.M, g.N), [&](auto tile) {
    using T = decltype(tile);
    const int64_t tiles = int64_t((g.M + T::BM - 1) / T::BM) * ((g.N + T::BN - 1) / T::BN);
    const SplitK split = split_k(ctx, tiles, g.K, bk);
    const size_t size = size_t(g.M) * g.N;
    ROTOR_CUDA_REQUIRE(size * split.slices <= size_t(max_index), "conv2d_backward_weight",
                       "split-K workspace too large");
    float* partial = workspace_as<float>(ctx, size * split.slices);  // (slices, C_out, C_in*KH*KW)
    conv_backward_weight_kernel<T><<<tile_grid<T>(g, split.slices), block_threads, 0, stream_of(ctx)>>>(
        g, x, dy, split.slice_k, partial);
    ROTOR_CUDA_CHECK_LAUNCH();
    reduce_weight_slices(ctx, partial, split.slices, static_cast<uint32_t>(size), dw);
  });
}

}  // namespace rotor::cuda
