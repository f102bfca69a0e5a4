// The caching allocator's private pools, which keep the memory of a step
// captured as a CUDA graph to that graph (engine/allocator.h). Tested on the
// host allocator: the bookkeeping is the base class's, the same for CUDA.
#include <catch2/catch.hpp>

#include "engine/allocator.h"
#include "engine/error.h"

using rotor::Allocator;
using rotor::HostAllocator;

TEST_CASE("a capture takes cached blocks into its pool and never asks the system", "[allocator][graph]") {
  HostAllocator a;
  void* warm1 = a.allocate(1000);  // an eager warm-up step leaves these cached
  void* warm2 = a.allocate(5000);
  a.release(warm1, 1000);
  a.release(warm2, 5000);
  const Allocator::PoolId pool = a.create_pool();
  a.begin_capture(pool);
  CHECK(a.capturing());
  void* p1 = a.allocate(1000);
  void* p2 = a.allocate(5000);
  CHECK(p1 == warm1);
  CHECK(p2 == warm2);
  a.release(p1, 1000);  // freed inside the capture: reused inside it
  CHECK(a.allocate(1000) == p1);
  // A size the cache does not hold would need the system (a cudaMalloc
  // would break a real capture): refused, naming the size.
  try {
    (void)a.allocate(70000);
    FAIL("a new block during capture was not refused");
  } catch (const rotor::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("70144 bytes") && Catch::Contains("captured as a CUDA graph"));
  }
  a.end_capture();
  CHECK_FALSE(a.capturing());
  CHECK(a.pool_blocks(pool) == 2);
  CHECK(a.bytes_cached() == 0);
  a.release(p1, 1000);
  a.release(p2, 5000);
  // Released to the pool, not to the cache: eager code between replays
  // (an evaluation) gets fresh blocks, never the graph's.
  CHECK(a.bytes_cached() == 0);
  void* eager = a.allocate(1000);
  CHECK(eager != p1);
  a.release(eager, 1000);
  // The pool's blocks are the graph's again at the next capture with it.
  a.begin_capture(pool);
  CHECK(a.allocate(5000) == p2);
  a.end_capture();
  a.release(p2, 5000);
  // Released with the graph: the blocks join the cache.
  a.release_pool(pool);
  CHECK(a.pool_blocks(pool) == 0);
  CHECK(a.bytes_cached() == 1024 + 1024 + 5120);
  CHECK(a.bytes_in_use() == 0);
}

TEST_CASE("a block held when its pool is released goes to the cache when freed", "[allocator][graph]") {
  HostAllocator a;
  a.release(a.allocate(256), 256);
  const Allocator::PoolId pool = a.create_pool();
  a.begin_capture(pool);
  void* held = a.allocate(256);
  a.end_capture();
  a.release_pool(pool);
  CHECK(a.bytes_in_use() == 256);
  a.release(held, 256);
  CHECK(a.bytes_in_use() == 0);
  CHECK(a.bytes_cached() == 256);
  void* again = a.allocate(256);
  CHECK(again == held);
  a.release(again, 256);  // an allocator frees only cached blocks: a block left in use leaks (ASan says so)
}

TEST_CASE("two captures cannot overlap", "[allocator][graph]") {
  HostAllocator a;
  const Allocator::PoolId p = a.create_pool(), q = a.create_pool();
  a.begin_capture(p);
  CHECK_THROWS_WITH(a.begin_capture(q), Catch::Contains("already in progress"));
  a.end_capture();
}
