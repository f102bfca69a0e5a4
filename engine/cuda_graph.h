// CudaGraph: device work captured once from the context's stream and
// replayed with one launch (a CUDA graph), its memory kept in a private pool
// of the caching allocator (engine/allocator.h).
//
// Capturing records the body's work and runs none of it. A body may
// enqueue kernels, cuBLAS calls and device-to-device copies on the
// context's stream, and allocate tensors of sizes that an eager run of the
// same body left cached; the tensors it allocates keep their addresses at
// every replay and are never handed to other code. It may not copy between
// host and device, synchronise, grow the workspace or need a new block:
// the capture then fails with an Error saying why, and nothing recorded
// runs. Design decision: kernel arguments are frozen at capture, so what
// changes from one replay to the next (a learning rate, a step count) must
// be read by the kernels from device memory that the host rewrites before
// each replay (copy_to_device_async).
//
// The backend's half is engine/cuda/cuda_graph.cpp (CUDA), the emulation's
// fake backend (tests/gpu/emulation: replays the recorded launches in
// order), or engine/cuda_unavailable.cpp (a CPU-only build: an Error).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "engine/allocator.h"

namespace rotor {

class Context;
struct CudaState;
struct CudaGraphExec;  // an instantiated graph (the backend's)

class CudaGraph {
 public:
  // Throws unless ctx runs on CUDA.
  explicit CudaGraph(Context& ctx);
  ~CudaGraph();
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // Records body() into the graph (replacing any earlier one). Throws an
  // Error naming the reason when the capture fails; the graph is then empty.
  void capture(const std::function<void()>& body);
  bool captured() const { return exec_ != nullptr; }
  // Enqueues the whole recorded work on the context's stream.
  void replay();

 private:
  void reset();
  Context& ctx_;
  std::shared_ptr<Allocator> allocator_;
  Allocator::PoolId pool_ = 0;
  CudaGraphExec* exec_ = nullptr;
};

// Queues a copy of `bytes` host bytes into device memory on the context's
// stream without waiting for the device; `src` may be reused as soon as
// this returns (the runtime stages pageable memory). Not allowed while a
// graph is being captured.
void copy_to_device_async(Context& ctx, void* dst, const void* src, size_t bytes);

// The backend's half.
void cuda_begin_capture(CudaState& state);
// Ends the capture begun on state's stream and returns the instantiated
// graph; throws (after ending it) when `failure` is not empty or the
// runtime refused the capture.
CudaGraphExec* cuda_end_capture(CudaState& state, const std::string& failure);
void cuda_graph_launch(CudaState& state, CudaGraphExec* graph);
void cuda_graph_destroy(CudaGraphExec* graph) noexcept;
void cuda_copy_to_device_async(CudaState& state, void* dst, const void* src, size_t bytes);

}  // namespace rotor
