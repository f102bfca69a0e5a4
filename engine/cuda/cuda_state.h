// CudaState: the CUDA half of a Context (one device, one stream).
//
// Every kernel wrapper enqueues on `stream` and never synchronises the host,
// so a whole training step can later be captured as a CUDA graph. cuBLAS is
// bound to the same stream and given its own workspace (so it allocates
// nothing while a graph is captured).
//
// The scratch workspace is shared by all ops of the context: an op may use
// it only between its first and last launch (ops run one after another on
// the one stream, so they never overlap). Growing it frees the old buffer,
// which waits for queued work; grow it once before capturing a graph (one
// warm-up step does that).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>

namespace rotor {

class Allocator;

struct CudaState {
  int device = 0;
  cudaDeviceProp prop{};
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  void* workspace = nullptr;  // scratch for reductions (partials), see cuda_workspace
  size_t workspace_bytes = 0;
  void* cublas_workspace = nullptr;
  size_t cublas_workspace_bytes = 0;
};

// A device buffer of at least `bytes` bytes (256-byte aligned), valid until
// the next call. When the device is full it empties `tensor_cache` (the
// context's caching allocator, whose idle blocks may be what is missing) and
// tries once more; then throws rotor::Error naming the size.
void* cuda_workspace(CudaState& state, size_t bytes, Allocator& tensor_cache);

}  // namespace rotor
