#include "engine/tensor.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/context.h"

namespace rotor {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::i32: return 4;
    case DType::u8: return 1;
    case DType::i64: return 8;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::i32: return "int32";
    case DType::u8: return "uint8";
    case DType::i64: return "int64";
  }
  return "?";
}

std::string shape_str(const Shape& shape) { return fmt::format("({})", fmt::join(shape, ", ")); }

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

Storage::Storage(std::shared_ptr<Allocator> allocator, size_t bytes)
    : allocator_(std::move(allocator)), data_(allocator_->allocate(bytes)), bytes_(bytes) {}

Storage::~Storage() { allocator_->release(data_, bytes_); }

Tensor Tensor::allocate(std::shared_ptr<Allocator> allocator, const Shape& shape, DType dtype) {
  for (int64_t d : shape)
    ROTOR_CHECK(d >= 0, "tensor shape {} has a negative dimension", shape_str(shape));
  const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  Tensor t;
  try {
    t.storage_ = std::make_shared<Storage>(std::move(allocator), bytes);
  } catch (const Error& e) {
    fail("{} for a tensor of shape {} ({})", e.what(), shape_str(shape), dtype_name(dtype));
  }
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::empty(Context& ctx, const Shape& shape, DType dtype) {
  return empty(ctx, ctx.device(), shape, dtype);
}

Tensor Tensor::empty(Context& ctx, Device device, const Shape& shape, DType dtype) {
  return allocate(ctx.allocator(device), shape, dtype);
}

Tensor Tensor::host(const Shape& shape, DType dtype) {
  return allocate(std::make_shared<HostAllocator>(), shape, dtype);
}

int64_t Tensor::size(int dim) const {
  ROTOR_CHECK(dim >= 0 && dim < rank(), "dimension {} out of range for a tensor of shape {}", dim,
              shape_str(shape_));
  return shape_[dim];
}

Device Tensor::device() const {
  ROTOR_CHECK(defined(), "device() of an undefined tensor");
  return storage_->device();
}

bool Tensor::is_contiguous() const { return strides_ == contiguous_strides(shape_); }

void* Tensor::raw() const {
  if (!defined()) return nullptr;
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}

void Tensor::check_dtype(DType expected) const {
  ROTOR_CHECK(dtype_ == expected, "tensor of shape {} holds {}, not {}", shape_str(shape_), dtype_name(dtype_),
              dtype_name(expected));
}

Tensor Tensor::view(Shape shape) const {
  ROTOR_CHECK(is_contiguous(), "view of a non-contiguous tensor of shape {}", shape_str(shape_));
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      ROTOR_CHECK(infer < 0, "view shape {} has more than one -1", shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    ROTOR_CHECK(known > 0 && numel() % known == 0, "cannot view {} as {}", shape_str(shape_), shape_str(shape));
    shape[infer] = numel() / known;
  }
  ROTOR_CHECK(shape_numel(shape) == numel(), "cannot view {} ({} elements) as {}", shape_str(shape_), numel(),
              shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  t.strides_ = contiguous_strides(t.shape_);
  return t;
}

Tensor Tensor::slice(int64_t begin, int64_t end) const { return narrow(0, begin, end - begin); }

Tensor Tensor::narrow(int dim, int64_t start, int64_t length) const {
  ROTOR_CHECK(dim >= 0 && dim < rank(), "narrow: dimension {} out of range for shape {}", dim, shape_str(shape_));
  ROTOR_CHECK(start >= 0 && length >= 0 && start + length <= shape_[dim],
              "narrow: [{}, {}) out of range for dimension {} of shape {}", start, start + length, dim,
              shape_str(shape_));
  Tensor t = *this;
  t.offset_ += start * strides_[dim];
  t.shape_[dim] = length;
  return t;
}

}  // namespace rotor
