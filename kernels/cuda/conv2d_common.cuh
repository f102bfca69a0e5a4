// What the two CUDA conv2d implementations share: the FP32 SIMT implicit
// GEMMs (kernels/cuda/conv2d.cu, which owns the cuda::conv2d_* entry
// points and dispatches) and the tensor-core ones, TF32 or FP16
// (kernels/cuda/conv2d_mma.cu). Sizes and divisors of one convolution, the
// choice of tile shape, the split of backward_weight's K into slices and
// the deterministic sum of the slices.
#pragma once

#include "kernels/cuda/cuda_common.cuh"

namespace rotor::cuda::detail {

// Sizes and divisors of one convolution (passed by value to the kernels).
struct ConvGeom {
  uint32_t n, c_in, h, w, c_out, kh, kw, stride, pad, ho, wo;
  uint32_t M, N, K;  // of the GEMM being run
  FastDiv khw;       // KH * KW
  FastDiv kw_div;    // KW
  FastDiv hwo;       // Ho * Wo
  FastDiv wo_div;    // Wo
  FastDiv hwi;       // H * W
  FastDiv wi_div;    // W
  FastDiv stride_div;
};

// Checks the shape (32-bit indexing, at most 65535 row tiles of 16) and
// builds its geometry for a GEMM of m x n over k; `op` names the caller.
ConvGeom conv_geom(const ConvShape& s, int64_t m, int64_t n, int64_t k, const char* op);

// The three block tiles (rows x columns of the output) both paths offer.
enum class TileKind { t16x256, t32x128, t64x64 };

// The tile that pads M x N the least; ties go to the squarer tile (fewer
// shared-memory loads per multiply-add).
TileKind pick_tile(uint32_t m, uint32_t n);

// backward_weight's split of K = N*Ho*Wo into slices of whole steps of
// `step` (grid.z): enough blocks for about four per SM, each slice at least
// four steps long, none empty.
struct SplitK {
  uint32_t slices;
  uint32_t slice_k;  // K per slice, a multiple of step
};
SplitK split_k(Context& ctx, int64_t tiles, uint32_t k, int step);

// dw[i] += sum over slices of partial[s][i], in slice order (in double):
// partial (slices, size) in the workspace, dw (size).
void reduce_weight_slices(Context& ctx, const float* partial, uint32_t slices, uint32_t size, float* dw);

// The tensor-core format the convolutions of `ctx` run in: TF32 when
// precision tf32 is asked for on sm_80 or newer, FP16 when fp16 is asked
// for on sm_75 or newer; otherwise none (the FP32 SIMT kernels).
enum class MmaKind { none, tf32, f16 };
inline MmaKind mma_kind(Context& ctx) {
  const cudaDeviceProp& p = ctx.cuda().prop;
  const int cc = p.major * 10 + p.minor;
  switch (ctx.options().precision) {
    case Precision::tf32: return cc >= 80 ? MmaKind::tf32 : MmaKind::none;
    case Precision::fp16: return cc >= 75 ? MmaKind::f16 : MmaKind::none;
    case Precision::fp32: return MmaKind::none;
  }
  return MmaKind::none;
}
inline bool use_tensor_cores(Context& ctx) { return mma_kind(ctx) != MmaKind::none; }

// The tensor-core convolutions (conv2d_mma.cu), in mma_kind(ctx)'s format,
// on the geometry the entry points built; same contracts as the
// cuda::conv2d_* functions. The FP16 backward ones also use the workspace.
void conv2d_forward_mma(Context& ctx, const ConvGeom& g, const float* x, const float* w, float* y);
void conv2d_backward_data_mma(Context& ctx, const ConvGeom& g, const float* dy, const float* w, float* dx,
                              bool accumulate);
void conv2d_backward_weight_mma(Context& ctx, const ConvGeom& g, const float* x, const float* dy, float* dw);

}  // namespace rotor::cuda::detail
