#include "engine/allocator.h"

#include <cstdlib>
#include <new>

#include "engine/error.h"

namespace rotor {

void* Allocator::allocate(size_t bytes) {
  const size_t size = round_up(bytes == 0 ? 1 : bytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      cached_ -= size;
      in_use_ += size;
      return block;
    }
  }
  void* block = raw_allocate(size);
  if (block == nullptr) {
    empty_cache();  // cached blocks of other sizes may be what is missing
    block = raw_allocate(size);
  }
  ROTOR_CHECK(block != nullptr, "out of {} memory: could not allocate {:.1f} MiB ({} bytes in use)",
              device_name(device()), size / 1048576.0, bytes_in_use());
  std::lock_guard<std::mutex> lock(mutex_);
  in_use_ += size;
  return block;
}

void Allocator::release(void* block, size_t bytes) noexcept {
  if (block == nullptr) return;
  const size_t size = round_up(bytes == 0 ? 1 : bytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_use_ -= size;
    try {
      free_[size].push_back(block);  // may allocate a list node or grow the list
      cached_ += size;
      return;
    } catch (const std::bad_alloc&) {
      // Out of host memory, typically while unwinding from a failed
      // allocate(): caching the block would need memory we do not have, so
      // it goes back to the system instead (a throw here would terminate).
    }
  }
  raw_free(block);
}

void Allocator::empty_cache() {
  std::map<size_t, std::vector<void*>> blocks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    blocks.swap(free_);
    cached_ = 0;
  }
  for (auto& [size, list] : blocks)
    for (void* b : list) raw_free(b);
}

void Allocator::release_all() { empty_cache(); }

size_t Allocator::bytes_in_use() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return in_use_;
}

size_t Allocator::bytes_cached() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_;
}

void* HostAllocator::raw_allocate(size_t bytes) { return std::aligned_alloc(256, round_up(bytes)); }

void HostAllocator::raw_free(void* block) { std::free(block); }

}  // namespace rotor
