// Allocator: a caching allocator for tensor storage on one device.
//
// Freed blocks are kept in per-size free lists and handed out again, so a
// training step with fixed shapes gets the same addresses every step (what a
// captured CUDA graph needs) and never returns to malloc/cudaMalloc after the
// first step. Sizes are rounded up to 256 bytes (the CUDA alignment) so
// nearby sizes share blocks.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/device.h"

namespace rotor {

class Allocator {
 public:
  virtual ~Allocator() = default;
  Allocator() = default;
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  // Returns a block of at least `bytes` bytes aligned to 256 bytes; throws
  // rotor::Error when the device is out of memory.
  void* allocate(size_t bytes);
  // Never throws (tensors release their storage in destructors, also while
  // unwinding): when caching the block needs memory that is not there, the
  // block is freed instead.
  void release(void* block, size_t bytes) noexcept;
  // Gives every cached (free) block back to the system.
  void empty_cache();

  virtual Device device() const = 0;
  size_t bytes_in_use() const;
  size_t bytes_cached() const;

  static size_t round_up(size_t bytes) { return (bytes + 255) / 256 * 256; }

 protected:
  // Returns nullptr when out of memory.
  virtual void* raw_allocate(size_t bytes) = 0;
  virtual void raw_free(void* block) = 0;
  // Subclasses call this from their destructor (virtual calls are gone by
  // the time the base destructor runs).
  void release_all();

 private:
  mutable std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;
  size_t in_use_ = 0;
  size_t cached_ = 0;
};

class HostAllocator final : public Allocator {
 public:
  ~HostAllocator() override { release_all(); }
  Device device() const override { return Device::cpu; }

 protected:
  void* raw_allocate(size_t bytes) override;
  void raw_free(void* block) override;
};

// Defined in engine/cuda/ when the CUDA backend is built; nullptr otherwise.
std::shared_ptr<Allocator> make_cuda_allocator(int device_index);

}  // namespace rotor
