// memory_footprint (engine/memory_footprint.h): the allocator's high-water
// mark on a known pattern of allocations, as `bench_cuda memory` reports it
// for a training step on the GPU.
#include <catch2/catch.hpp>

#include <optional>

#include "engine/context.h"
#include "engine/memory_footprint.h"
#include "engine/tensor.h"

using namespace rotor;

TEST_CASE("memory_footprint holds the allocator's high-water mark, not what is live", "[memory]") {
  Context ctx;
  const MemoryFootprint base = memory_footprint(ctx);
  std::optional<Tensor> a = Tensor::empty(ctx, {250});  // 1000 bytes -> a 1024-byte block
  const Tensor b = Tensor::empty(ctx, {100});           // 400 bytes -> 512
  MemoryFootprint f = memory_footprint(ctx);
  CHECK(f.tensors_in_use - base.tensors_in_use == 1536);
  CHECK(f.tensors_held - base.tensors_held == 1536);

  a.reset();  // freed: cached, still held
  f = memory_footprint(ctx);
  CHECK(f.tensors_in_use - base.tensors_in_use == 512);
  CHECK(f.tensors_held - base.tensors_held == 1536);

  const Tensor c = Tensor::empty(ctx, {256});  // 1024 bytes: reuses a's block, the mark stays
  const Tensor d = Tensor::empty(ctx, {200});  // 800 -> a new 1024-byte block: the mark rises
  f = memory_footprint(ctx);
  CHECK(f.tensors_in_use - base.tensors_in_use == 2560);
  CHECK(f.tensors_held - base.tensors_held == 2560);
  CHECK(f.workspace == 0);
  CHECK(f.cublas_workspace == 0);
  CHECK(f.total() == f.tensors_held);
}
