// Whole-tensor helpers that work on any device: fill, copy, moves between
// host and device, contiguous copies of strided views.
#pragma once

#include <vector>

#include "engine/tensor.h"

namespace rotor {

// dst = value (float32 tensors).
void fill(Context& ctx, Tensor& dst, float value);
// dst = src: same shape and dtype, both contiguous, any devices.
void copy(Context& ctx, const Tensor& src, Tensor& dst);
// A contiguous copy of `src` on `device`.
Tensor to_device(Context& ctx, const Tensor& src, Device device);
// A contiguous host copy (any dtype, any strides, any device).
Tensor to_host(Context& ctx, const Tensor& src);
// A tensor on the context's device holding these host values.
Tensor from_host(Context& ctx, const Shape& shape, const std::vector<float>& values);
// The values of a float tensor, in row-major order, on the host.
std::vector<float> host_values(Context& ctx, const Tensor& src);

}  // namespace rotor
