#include "engine/allocator.h"

#include <cstdlib>
#include <new>

#include "engine/error.h"

namespace rotor {

void* Allocator::allocate(size_t bytes) {
  const size_t size = round_up(bytes == 0 ? 1 : bytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (capturing_ != 0) return allocate_captured(size);
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
    if (auto owner = owner_.find(block); owner != owner_.end()) {
      auto pool = pools_.find(owner->second);
      if (pool != pools_.end()) {
        try {
          pool->second.free[size].push_back(block);  // still in use: reserved for its graph
          return;
        } catch (const std::bad_alloc&) {
          --pool->second.blocks;  // falls through: cached, or freed below
        }
      }
      owner_.erase(owner);
    }
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

void Allocator::release_all() {
  empty_cache();
  std::map<PoolId, Pool> pools;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pools.swap(pools_);
    owner_.clear();
  }
  for (auto& [id, pool] : pools)
    for (auto& [size, list] : pool.free)
      for (void* b : list) raw_free(b);
}

// Called with the mutex held.
void* Allocator::allocate_captured(size_t size) {
  Pool& pool = pools_.at(capturing_);
  if (auto it = pool.free.find(size); it != pool.free.end() && !it->second.empty()) {
    void* block = it->second.back();
    it->second.pop_back();
    return block;
  }
  auto it = free_.find(size);
  ROTOR_CHECK(it != free_.end() && !it->second.empty(),
              "a step captured as a CUDA graph asked for a new {} block of {} bytes, but the cache holds none of "
              "that size (allocating now would break the capture; the eager warm-up step should have left one)",
              device_name(device()), size);
  void* block = it->second.back();
  owner_.emplace(block, capturing_);  // first, so a bad_alloc leaves the block where it was
  it->second.pop_back();
  cached_ -= size;
  in_use_ += size;
  ++pool.blocks;
  return block;
}

Allocator::PoolId Allocator::create_pool() {
  std::lock_guard<std::mutex> lock(mutex_);
  const PoolId id = next_pool_++;
  pools_.emplace(id, Pool{});
  return id;
}

void Allocator::begin_capture(PoolId pool) {
  std::lock_guard<std::mutex> lock(mutex_);
  ROTOR_CHECK(capturing_ == 0, "allocator: a capture is already in progress");
  ROTOR_CHECK(pools_.count(pool) == 1, "allocator: no pool {}", pool);
  capturing_ = pool;
}

void Allocator::end_capture() {
  std::lock_guard<std::mutex> lock(mutex_);
  capturing_ = 0;
}

bool Allocator::capturing() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return capturing_ != 0;
}

void Allocator::release_pool(PoolId id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = pools_.find(id);
  if (it == pools_.end()) return;
  if (capturing_ == id) capturing_ = 0;
  for (auto& [size, list] : it->second.free)
    for (void* b : list) {
      owner_.erase(b);
      in_use_ -= size;
      try {
        free_[size].push_back(b);
        cached_ += size;
      } catch (const std::bad_alloc&) {
        raw_free(b);
      }
    }
  pools_.erase(it);
}

size_t Allocator::pool_blocks(PoolId id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = pools_.find(id);
  return it == pools_.end() ? 0 : it->second.blocks;
}

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
