// Shapes shared by the cpu:: and cuda:: twins of every kernel.
//
// All activations are contiguous NCHW. A 2-D (N, C) activation is the same
// layout with H = W = 1, which is how batch norm 1d reuses the 2d kernels.
#pragma once

#include <cstdint>

namespace rotor {

// What a backward kernel does with an input gradient it writes: `assign`
// overwrites it without reading it (the first writer of an activation
// gradient), `accumulate` adds to it (later writers). Parameter gradients
// always accumulate. Every gradient a backward kernel writes (dx, dw,
// dgamma, ...) may be nullptr, meaning not wanted: the kernel skips it and
// still writes the others. Both twins keep these rules
// (tests/test_kernel_contracts.cpp, tests/gpu/test_gpu_kernel_contracts.cpp).
enum class GradMode { assign, accumulate };

// (N, C, HW): per-channel ops (batch norm, rrelu, pooling).
struct ChannelShape {
  int64_t n = 0, c = 0, hw = 1;
  int64_t numel() const { return n * c * hw; }
  int64_t per_channel() const { return n * hw; }  // values reduced per channel
};

// conv2d: x (N, C_in, H, W) * w (C_out, C_in, KH, KW) -> y (N, C_out, H_out, W_out).
struct ConvShape {
  int64_t n = 0, c_in = 0, h = 0, w = 0;
  int64_t c_out = 0, kh = 1, kw = 1;
  int64_t stride = 1, pad = 0;
  int64_t h_out() const { return (h + 2 * pad - kh) / stride + 1; }
  int64_t w_out() const { return (w + 2 * pad - kw) / stride + 1; }
  int64_t x_numel() const { return n * c_in * h * w; }
  int64_t w_numel() const { return c_out * c_in * kh * kw; }
  int64_t y_numel() const { return n * c_out * h_out() * w_out(); }
};

// Option-A shortcut: y = x[:, :, ::stride, ::stride] with pad_front zero
// channels before and (c_out - c_in - pad_front) after.
struct ShortcutShape {
  int64_t n = 0, c_in = 0, h = 0, w = 0;
  int64_t c_out = 0, stride = 2;
  int64_t pad_front() const { return (c_out - c_in) / 2; }
  int64_t h_out() const { return (h - 1) / stride + 1; }
  int64_t w_out() const { return (w - 1) / stride + 1; }
};

}  // namespace rotor
