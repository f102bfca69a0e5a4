// How much memory a context holds on its device, for the peak-memory line
// of `bench_cuda memory` (and anything else that wants the same accounting).
//
// The caching allocator (engine/allocator.h) keeps every freed block for
// reuse and gives memory back only when a cudaMalloc fails (empty_cache), so
// what it holds, in use + cached, is its high-water mark: after a training
// step it is the step's peak of tensor memory as the device sees it (blocks
// are rounded to 256 bytes and reused only at the same size, so it can
// exceed the peak of the bytes live at one moment). The CUDA workspace and
// cuBLAS workspace come on top; the CUDA context itself (hundreds of MiB)
// only cudaMemGetInfo sees.
#pragma once

#include <cstddef>

namespace rotor {

class Context;

struct MemoryFootprint {
  size_t tensors_in_use = 0;    // bytes of live tensors now
  size_t tensors_held = 0;      // in use + cached: the allocator's high-water mark
  size_t workspace = 0;         // the ops' scratch workspace (CUDA only)
  size_t cublas_workspace = 0;  // cuBLAS's workspace (CUDA only)
  size_t total() const { return tensors_held + workspace + cublas_workspace; }
};

// The footprint on the context's device.
MemoryFootprint memory_footprint(Context& ctx);

}  // namespace rotor
