// CUDA elementwise helpers (kernels/elementwise.h): add, copy_grad, fill,
// scale, axpy, and the map_kernel that activation, dropout and other
// elementwise kernels share.
//
// Design decision: these compute bit for bit what the CPU loops compute.
// nvcc would contract y + alpha * x into one fused multiply-add (one
// rounding instead of two); the _rn intrinsics keep each operation rounded
// as the C++ source on the CPU is.
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/elementwise_map.cuh"
#include "kernels/elementwise.h"

namespace rotor::cuda {
namespace {

using namespace detail;

struct AddOp {
  const float* a;
  const float* b;
  float* y;
  __device__ void operator()(uint32_t i) const { y[i] = __fadd_rn(a[i], b[i]); }
};

struct CopyGradOp {
  const float* src;
  float* dst;
  bool accumulate;
  __device__ void operator()(uint32_t i) const { dst[i] = accumulate ? __fadd_rn(dst[i], src[i]) : src[i]; }
};

struct FillOp {
  float value;
  float* dst;
  __device__ void operator()(uint32_t i) const { dst[i] = value; }
};

struct ScaleOp {
  float alpha;
  float* x;
  __device__ void operator()(uint32_t i) const { x[i] = __fmul_rn(x[i], alpha); }
};

struct AxpyOp {
  float alpha;
  const float* x;
  float* y;
  __device__ void operator()(uint32_t i) const { y[i] = __fadd_rn(y[i], __fmul_rn(alpha, x[i])); }
};

}  // namespace

void add_forward(Context& ctx, int64_t n, const float* a, const float* b, float* y) {
  launch_map(ctx, n, AddOp{a, b, y}, "add_forward");
}

void copy_grad(Context& ctx, int64_t n, const float* src, float* dst, GradMode mode) {
  launch_map(ctx, n, CopyGradOp{src, dst, mode == GradMode::accumulate}, "copy_grad");
}

void fill(Context& ctx, int64_t n, float value, float* dst) { launch_map(ctx, n, FillOp{value, dst}, "fill"); }

void scale(Context& ctx, int64_t n, float alpha, float* x) { launch_map(ctx, n, ScaleOp{alpha, x}, "scale"); }

void axpy(Context& ctx, int64_t n, float alpha, const float* x, float* y) {
  launch_map(ctx, n, AxpyOp{alpha, x, y}, "axpy");
}

}  // namespace rotor::cuda
