#include "engine/tensor_util.h"

#include <cstring>

#include "engine/context.h"
#include "kernels/elementwise.h"

namespace rotor {

void fill(Context& ctx, Tensor& dst, float value) {
  ROTOR_CHECK(dst.is_contiguous(), "fill: tensor of shape {} is not contiguous", shape_str(dst.shape()));
  if (dst.device() == Device::cpu) return cpu::fill(ctx, dst.numel(), value, dst.f32());
#if ROTOR_HAVE_CUDA
  cuda::fill(ctx, dst.numel(), value, dst.f32());
#endif
}

void copy(Context& ctx, const Tensor& src, Tensor& dst) {
  ROTOR_CHECK(src.same_shape(dst) && src.dtype() == dst.dtype(), "copy: source {} {} does not match target {} {}",
              shape_str(src.shape()), dtype_name(src.dtype()), shape_str(dst.shape()), dtype_name(dst.dtype()));
  ROTOR_CHECK(src.is_contiguous() && dst.is_contiguous(), "copy: tensors of shape {} must be contiguous",
              shape_str(src.shape()));
  copy_bytes(ctx, dst.raw(), dst.device(), src.raw(), src.device(), src.bytes());
}

// Strided host gather, element size `esize`, over any rank.
static void gather_strided(const char* src, const Shape& shape, const std::vector<int64_t>& strides, size_t esize,
                           char* dst) {
  const int rank = static_cast<int>(shape.size());
  const int64_t total = shape_numel(shape);
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t offset = 0;
    for (int d = 0; d < rank; ++d) offset += index[d] * strides[d];
    std::memcpy(dst + i * esize, src + offset * static_cast<int64_t>(esize), esize);
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

Tensor to_host(Context& ctx, const Tensor& src) {
  Tensor out = Tensor::host(src.shape(), src.dtype());
  if (src.is_contiguous()) {
    copy_bytes(ctx, out.raw(), Device::cpu, src.raw(), src.device(), src.bytes());
    return out;
  }
  ROTOR_CHECK(src.device() == Device::cpu, "to_host: strided views of device tensors are not supported ({})",
              shape_str(src.shape()));
  gather_strided(static_cast<const char*>(src.raw()), src.shape(), src.strides(), dtype_size(src.dtype()),
                 static_cast<char*>(out.raw()));
  return out;
}

Tensor to_device(Context& ctx, const Tensor& src, Device device) {
  const Tensor contiguous = src.is_contiguous() ? src : to_host(ctx, src);
  Tensor out = Tensor::empty(ctx, device, src.shape(), src.dtype());
  copy(ctx, contiguous, out);
  return out;
}

Tensor from_host(Context& ctx, const Shape& shape, const std::vector<float>& values) {
  ROTOR_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_host: {} values for shape {}",
              values.size(), shape_str(shape));
  Tensor out = Tensor::empty(ctx, shape);
  copy_bytes(ctx, out.raw(), out.device(), values.data(), Device::cpu, values.size() * sizeof(float));
  return out;
}

std::vector<float> host_values(Context& ctx, const Tensor& src) {
  const Tensor h = to_host(ctx, src);
  const float* p = h.f32();
  return std::vector<float>(p, p + h.numel());
}

}  // namespace rotor
