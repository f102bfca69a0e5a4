// Allocator: a caching allocator for tensor storage on one device.
//
// Freed blocks are kept in per-size free lists and handed out again, so a
// training step with fixed shapes gets the same addresses every step (what a
// captured CUDA graph needs) and never returns to malloc/cudaMalloc after the
// first step. Sizes are rounded up to 256 bytes (the CUDA alignment) so
// nearby sizes share blocks.
//
// Private pools (for CUDA graphs; PyTorch's graph memory pools are the
// model): while a step is captured, its blocks are taken from the cache
// into a pool of the graph and, once released, go back to that pool only.
// The addresses a captured graph reads and writes at every replay are
// therefore never handed to other code (an evaluation) between replays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_map>
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

  // Capture mode. Between begin_capture(pool) and end_capture(), allocate()
  // serves a block from `pool`'s free blocks, else moves a cached block of
  // the size into the pool, and never asks the system: a cudaMalloc would
  // break a capture, and a step captured after an identical eager warm-up
  // step finds every size it needs cached. A size the cache lacks throws an
  // Error naming it. A pool's blocks count as in use; release() returns them
  // to their pool until release_pool(), which hands the pool's free blocks
  // back to the cache (blocks still held by tensors follow when released).
  using PoolId = uint64_t;
  PoolId create_pool();
  void begin_capture(PoolId pool);
  void end_capture();
  void release_pool(PoolId pool);
  bool capturing() const;
  size_t pool_blocks(PoolId pool) const;  // blocks the pool owns (free or held)

 protected:
  // Returns nullptr when out of memory.
  virtual void* raw_allocate(size_t bytes) = 0;
  virtual void raw_free(void* block) = 0;
  // Subclasses call this from their destructor (virtual calls are gone by
  // the time the base destructor runs).
  void release_all();

 private:
  void* allocate_captured(size_t size);  // with mutex_ held
  mutable std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;
  size_t in_use_ = 0;
  size_t cached_ = 0;
  struct Pool {
    std::map<size_t, std::vector<void*>> free;
    size_t blocks = 0;
  };
  std::map<PoolId, Pool> pools_;
  std::unordered_map<void*, PoolId> owner_;  // blocks that belong to a pool
  PoolId next_pool_ = 1;
  PoolId capturing_ = 0;  // 0: not capturing
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
