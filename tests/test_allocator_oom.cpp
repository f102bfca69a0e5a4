// The caching allocator when the host itself is out of memory: release()
// runs in tensor destructors, also while unwinding from a failed
// allocation, so it must not throw even when caching the block would need
// memory (a throw there terminates the process).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <new>

#include "engine/allocator.h"

namespace {

// This test binary's operator new fails while the count is above zero;
// otherwise it is malloc. (Test-only: rotor itself has no such hook.)
thread_local int failing_allocations = 0;

}  // namespace

// Every unaligned form is replaced, so that whatever new allocates the
// matching delete frees with the same allocator (this file is linked into
// the whole rotor_tests binary; a partial replacement pairs ASan's nothrow
// new with this free, which ASan reports as an alloc-dealloc mismatch).
void* operator new(std::size_t n) {
  if (failing_allocations > 0) throw std::bad_alloc();
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return failing_allocations > 0 ? nullptr : std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept { return ::operator new(n, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

TEST_CASE("the allocator releases a block without throwing when the host is out of memory", "[allocator][run-safety]") {
  rotor::HostAllocator allocator;
  void* block = allocator.allocate(1000);
  REQUIRE(block != nullptr);
  REQUIRE(allocator.bytes_in_use() == 1024);
  failing_allocations = 1;
  bool threw = false;
  try {
    allocator.release(block, 1000);  // the free list would need a new node
  } catch (...) {
    threw = true;
  }
  failing_allocations = 0;
  CHECK_FALSE(threw);
  CHECK(allocator.bytes_in_use() == 0);
  CHECK(allocator.bytes_cached() == 0);  // given back to the system, not cached
  // With memory again, blocks are cached as usual.
  void* again = allocator.allocate(1000);
  allocator.release(again, 1000);
  CHECK(allocator.bytes_cached() == 1024);
}
