// Tensor: an n-dimensional view (shape, strides, offset) of typed storage on
// one device.
//
// Storage is reference-counted and returns to its Allocator when the last
// view is gone. Most kernels need contiguous row-major (NCHW) data; views
// that are not contiguous (narrow along an inner dimension) are turned into
// contiguous copies by contiguous(). Element types: float32 for values,
// int32 for labels, uint8 for data sets, int64 for counters.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/allocator.h"
#include "engine/device.h"
#include "engine/error.h"

namespace rotor {

class Context;

enum class DType : uint8_t { f32 = 0, i32 = 1, u8 = 2, i64 = 3 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::u8; }
template <> constexpr DType dtype_of<int64_t>() { return DType::i64; }

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& shape);
int64_t shape_numel(const Shape& shape);

class Storage {
 public:
  Storage(std::shared_ptr<Allocator> allocator, size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return allocator_->device(); }

 private:
  std::shared_ptr<Allocator> allocator_;
  void* data_;
  size_t bytes_;
};

class Tensor {
 public:
  Tensor() = default;

  // Uninitialised tensor on the context's device (or the given one).
  static Tensor empty(Context& ctx, const Shape& shape, DType dtype = DType::f32);
  static Tensor empty(Context& ctx, Device device, const Shape& shape, DType dtype = DType::f32);
  // Uninitialised tensor in plain host memory, for files and tests.
  static Tensor host(const Shape& shape, DType dtype = DType::f32);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t size(int dim) const;
  int64_t numel() const { return shape_numel(shape_); }
  size_t bytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const;
  bool is_contiguous() const;
  bool same_shape(const Tensor& other) const { return shape_ == other.shape_; }

  // Typed element pointer (at the view's offset); checks the element type.
  template <class T> T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(raw());
  }
  float* f32() const { return data<float>(); }
  void* raw() const;

  // A view of the same storage with another shape (one dimension may be -1).
  // Requires a contiguous tensor.
  Tensor view(Shape shape) const;
  // Elements [begin, end) along dimension 0, as a view.
  Tensor slice(int64_t begin, int64_t end) const;
  // Elements [start, start+length) along `dim`, as a (possibly strided) view.
  Tensor narrow(int dim, int64_t start, int64_t length) const;

 private:
  static Tensor allocate(std::shared_ptr<Allocator> allocator, const Shape& shape, DType dtype);
  void check_dtype(DType expected) const;

  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;  // in elements
  Shape shape_;
  std::vector<int64_t> strides_;  // in elements
  DType dtype_ = DType::f32;
};

// Row-major strides of a shape.
std::vector<int64_t> contiguous_strides(const Shape& shape);

}  // namespace rotor
