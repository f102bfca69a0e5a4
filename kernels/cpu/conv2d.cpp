// CPU conv2d: im2col + GEMM per image, images split across the thread pool.
#include "kernels/conv2d.h"

#include <algorithm>
#include <cstring>

#include "engine/context.h"
#include "kernels/gemm.h"

namespace rotor::cpu {
namespace {

bool is_pointwise(const ConvShape& s) { return s.kh == 1 && s.kw == 1 && s.stride == 1 && s.pad == 0; }

int64_t col_rows(const ConvShape& s) { return s.c_in * s.kh * s.kw; }
// Leading dimension of the weights seen as (C_out, C_in*KH*KW): at least 1,
// as GEMM requires, also for a pruned conv with no input channel left.
int64_t weight_ld(const ConvShape& s) { return std::max<int64_t>(1, col_rows(s)); }
int64_t col_cols(const ConvShape& s) { return s.h_out() * s.w_out(); }

// Outputs o in [first, last) read input index o*stride + offset inside
// [0, size); the rest read the zero padding. Computing this range once per
// row keeps bounds tests out of the copy loops (im2col was half the forward
// time when it tested every element).
struct ValidRange {
  int64_t first, last;
};
ValidRange valid_outputs(int64_t offset, int64_t size, int64_t stride, int64_t outputs) {
  const auto ceil_div = [](int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; };
  const int64_t last = std::min(outputs, ceil_div(size - offset, stride));
  const int64_t first = std::min(last, ceil_div(-offset, stride));
  return {first, last};
}

// col (C_in*KH*KW, Ho*Wo) of one image x (C_in, H, W).
template <class T>
void im2col(const ConvShape& s, const T* x, T* col) {
  const int64_t ho = s.h_out(), wo = s.w_out();
  for (int64_t c = 0; c < s.c_in; ++c)
    for (int64_t ki = 0; ki < s.kh; ++ki) {
      const ValidRange rows = valid_outputs(ki - s.pad, s.h, s.stride, ho);
      for (int64_t kj = 0; kj < s.kw; ++kj) {
        const ValidRange cols = valid_outputs(kj - s.pad, s.w, s.stride, wo);
        T* row = col + ((c * s.kh + ki) * s.kw + kj) * ho * wo;
        std::fill(row, row + rows.first * wo, T(0));
        for (int64_t oh = rows.first; oh < rows.last; ++oh) {
          T* out = row + oh * wo;
          // Input element of output column ow: in[ow * stride + kj - pad]
          // (an index, not a pointer, as it may lie before the row start).
          const T* in = x + (c * s.h + oh * s.stride - s.pad + ki) * s.w;
          const int64_t shift = kj - s.pad;
          std::fill(out, out + cols.first, T(0));
          if (s.stride == 1) {
            std::copy(in + cols.first + shift, in + cols.last + shift, out + cols.first);
          } else {
            for (int64_t ow = cols.first; ow < cols.last; ++ow) out[ow] = in[ow * s.stride + shift];
          }
          std::fill(out + cols.last, out + wo, T(0));
        }
        std::fill(row + rows.last * wo, row + ho * wo, T(0));
      }
    }
}

// dx (C_in, H, W) += scatter of col (the adjoint of im2col).
template <class T>
void col2im_add(const ConvShape& s, const T* col, T* dx) {
  const int64_t ho = s.h_out(), wo = s.w_out();
  for (int64_t c = 0; c < s.c_in; ++c)
    for (int64_t ki = 0; ki < s.kh; ++ki) {
      const ValidRange rows = valid_outputs(ki - s.pad, s.h, s.stride, ho);
      for (int64_t kj = 0; kj < s.kw; ++kj) {
        const ValidRange cols = valid_outputs(kj - s.pad, s.w, s.stride, wo);
        const T* row = col + ((c * s.kh + ki) * s.kw + kj) * ho * wo;
        for (int64_t oh = rows.first; oh < rows.last; ++oh) {
          const T* in = row + oh * wo;
          T* out = dx + (c * s.h + oh * s.stride - s.pad + ki) * s.w;
          const int64_t shift = kj - s.pad;
          if (s.stride == 1) {  // contiguous: the compiler vectorises this form
            for (int64_t ow = cols.first; ow < cols.last; ++ow) out[ow + shift] += in[ow];
          } else {
            for (int64_t ow = cols.first; ow < cols.last; ++ow) out[ow * s.stride + shift] += in[ow];
          }
        }
      }
    }
}

template <class T>
T* scratch(Context& ctx, Context::Scratch slot, int thread, int64_t elems) {
  return static_cast<T*>(ctx.host_scratch(slot, thread, static_cast<size_t>(elems) * sizeof(T)));
}

}  // namespace

template <class T>
void conv2d_forward(Context& ctx, const ConvShape& s, const T* x, const T* w, T* y) {
  const int64_t k = col_rows(s), hw = col_cols(s);
  ctx.pool().parallel_for(s.n, [&](int64_t begin, int64_t end, int thread) {
    T* col = is_pointwise(s) ? nullptr : scratch<T>(ctx, Context::Scratch::im2col, thread, k * hw);
    for (int64_t i = begin; i < end; ++i) {
      const T* xi = x + i * s.c_in * s.h * s.w;
      if (col) im2col(s, xi, col);
      gemm_serial<T>(ctx, thread, false, false, s.c_out, hw, k, T(1), w, weight_ld(s), col ? col : xi, hw, T(0),
                     y + i * s.c_out * hw, hw);
    }
  });
}

template <class T>
void conv2d_backward_data(Context& ctx, const ConvShape& s, const T* dy, const T* w, T* dx, GradMode mode) {
  if (!dx) return;  // not wanted (kernels/shapes.h)
  const int64_t k = col_rows(s), hw = col_cols(s), x_image = s.c_in * s.h * s.w;
  ctx.pool().parallel_for(s.n, [&](int64_t begin, int64_t end, int thread) {
    for (int64_t i = begin; i < end; ++i) {
      const T* dyi = dy + i * s.c_out * hw;
      T* dxi = dx + i * x_image;
      if (is_pointwise(s)) {
        gemm_serial<T>(ctx, thread, true, false, k, hw, s.c_out, T(1), w, weight_ld(s), dyi, hw,
                       mode == GradMode::accumulate ? T(1) : T(0), dxi, hw);
        continue;
      }
      T* col = scratch<T>(ctx, Context::Scratch::im2col, thread, k * hw);
      gemm_serial<T>(ctx, thread, true, false, k, hw, s.c_out, T(1), w, weight_ld(s), dyi, hw, T(0), col, hw);
      if (mode == GradMode::assign) std::fill(dxi, dxi + x_image, T(0));
      col2im_add(s, col, dxi);
    }
  });
}

template <class T>
void conv2d_backward_weight(Context& ctx, const ConvShape& s, const T* x, const T* dy, T* dw) {
  if (!dw) return;  // not wanted (kernels/shapes.h)
  const int64_t k = col_rows(s), hw = col_cols(s), w_numel = s.w_numel();
  const int parts = static_cast<int>(std::min<int64_t>(ctx.pool().size(), s.n));
  // Each thread sums its images into its own partial; partials are then
  // added to dw in thread order, so the result does not depend on timing.
  T* partials = scratch<T>(ctx, Context::Scratch::partial, 0, parts * w_numel);
  ctx.pool().parallel_for(parts, [&](int64_t begin, int64_t end, int thread) {
    for (int64_t part = begin; part < end; ++part) {
      T* acc = partials + part * w_numel;
      const int64_t first = s.n * part / parts, last = s.n * (part + 1) / parts;
      T* col = is_pointwise(s) ? nullptr : scratch<T>(ctx, Context::Scratch::im2col, thread, k * hw);
      for (int64_t i = first; i < last; ++i) {
        const T* xi = x + i * s.c_in * s.h * s.w;
        if (col) im2col(s, xi, col);
        gemm_serial<T>(ctx, thread, false, true, s.c_out, k, hw, T(1), dy + i * s.c_out * hw, hw, col ? col : xi,
                       hw, i == first ? T(0) : T(1), acc, weight_ld(s));
      }
    }
  });
  for (int p = 0; p < parts; ++p)
    for (int64_t j = 0; j < w_numel; ++j) dw[j] += partials[p * w_numel + j];
}

#define ROTOR_INSTANTIATE_CONV2D(T)                                                                          \
  template void conv2d_forward<T>(Context&, const ConvShape&, const T*, const T*, T*);                       \
  template void conv2d_backward_data<T>(Context&, const ConvShape&, const T*, const T*, T*, GradMode);       \
  template void conv2d_backward_weight<T>(Context&, const ConvShape&, const T*, const T*, T*);
ROTOR_INSTANTIATE_CONV2D(float)
ROTOR_INSTANTIATE_CONV2D(double)

}  // namespace rotor::cpu
