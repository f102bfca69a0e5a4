// CUDA option-A shortcut (kernels/shortcut.h): elementwise maps over the
// output (forward) and over dx (backward), so every element is written by
// exactly one thread and nothing is zeroed separately.
#include "kernels/cuda/elementwise_map.cuh"
#include "kernels/shortcut.h"

namespace rotor::cuda {
namespace {

using namespace detail;

// y (N, C_out, Ho, Wo): x[n, c - front, oh * s, ow * s], or 0 in the padding channels.
struct ShortcutForwardOp {
  const float* x;
  float* y;
  FastDiv plane_out, c_out, w_out;
  uint32_t c_in, h, w, stride, front;
  __device__ void operator()(uint32_t i) const {
    uint32_t p, r, n, co, oh, ow;
    plane_out.divmod(i, p, r);
    c_out.divmod(p, n, co);
    w_out.divmod(r, oh, ow);
    const int c = static_cast<int>(co) - static_cast<int>(front);
    y[i] = (c >= 0 && c < static_cast<int>(c_in)) ? x[((n * c_in + c) * h + oh * stride) * w + ow * stride] : 0.0f;
  }
};

// dx (N, C_in, H, W): dy at the sampled positions, 0 elsewhere.
struct ShortcutBackwardOp {
  const float* dy;
  float* dx;
  FastDiv plane_in, c_in, w_in, stride;
  uint32_t c_out, h_out, w_out, front;
  bool accumulate;
  __device__ void operator()(uint32_t i) const {
    uint32_t p, r, n, c, ih, iw, oh, rh, ow, rw;
    plane_in.divmod(i, p, r);
    c_in.divmod(p, n, c);
    w_in.divmod(r, ih, iw);
    stride.divmod(ih, oh, rh);
    stride.divmod(iw, ow, rw);
    const float g = (rh == 0 && rw == 0) ? dy[((n * c_out + c + front) * h_out + oh) * w_out + ow] : 0.0f;
    dx[i] = accumulate ? __fadd_rn(dx[i], g) : g;
  }
};

void check(const ShortcutShape& s, const char* op) {
  ROTOR_CUDA_REQUIRE(s.n * s.c_in * s.h * s.w <= max_index && s.n * s.c_out * s.h_out() * s.w_out() <= max_index, op,
                     "a tensor has 2^31 or more elements (32-bit indexing)");
}

}  // namespace

void shortcut_a_forward(Context& ctx, const ShortcutShape& s, const float* x, float* y) {
  check(s, "shortcut_a_forward");
  const int64_t ho = s.h_out(), wo = s.w_out();
  const ShortcutForwardOp op{x,
                             y,
                             FastDiv(static_cast<uint32_t>(ho * wo)),
                             FastDiv(static_cast<uint32_t>(s.c_out)),
                             FastDiv(static_cast<uint32_t>(wo)),
                             static_cast<uint32_t>(s.c_in),
                             static_cast<uint32_t>(s.h),
                             static_cast<uint32_t>(s.w),
                             static_cast<uint32_t>(s.stride),
                             static_cast<uint32_t>(s.pad_front())};
  launch_map(ctx, s.n * s.c_out * ho * wo, op, "shortcut_a_forward");
}

void shortcut_a_backward(Context& ctx, const ShortcutShape& s, const float* dy, float* dx, GradMode mode) {
  if (!dx) return;
  check(s, "shortcut_a_backward");
  const ShortcutBackwardOp op{dy,
                              dx,
                              FastDiv(static_cast<uint32_t>(s.h * s.w)),
                              FastDiv(static_cast<uint32_t>(s.c_in)),
                              FastDiv(static_cast<uint32_t>(s.w)),
                              FastDiv(static_cast<uint32_t>(s.stride)),
                              static_cast<uint32_t>(s.c_out),
                              static_cast<uint32_t>(s.h_out()),
                              static_cast<uint32_t>(s.w_out()),
                              static_cast<uint32_t>(s.pad_front()),
                              mode == GradMode::accumulate};
  launch_map(ctx, s.n * s.c_in * s.h * s.w, op, "shortcut_a_backward");
}

}  // namespace rotor::cuda
