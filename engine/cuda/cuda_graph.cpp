// The CUDA backend of engine/cuda_graph.h: stream capture, instantiation
// and launch of a graph, and the asynchronous host-to-device copy of the
// values a replay reads. Host code only (g++).
//
// Design decision: the capture uses cudaStreamCaptureModeGlobal (the
// strictest mode), so an unsafe call made while capturing (a cudaMalloc, a
// synchronisation) is an error where it happens instead of a graph that
// silently lacks work.
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_state.h"
#include "engine/cuda_graph.h"
#include "engine/error.h"

namespace rotor {

struct CudaGraphExec {
  cudaGraphExec_t exec = nullptr;
};

void cuda_begin_capture(CudaState& s) {
  ROTOR_CUDA_CHECK(cudaStreamBeginCapture(s.stream, cudaStreamCaptureModeGlobal));
}

CudaGraphExec* cuda_end_capture(CudaState& s, const std::string& failure) {
  cudaGraph_t graph = nullptr;
  const cudaError_t end = cudaStreamEndCapture(s.stream, &graph);
  std::string why = failure;
  if (why.empty() && end != cudaSuccess)
    why = fmt::format("the runtime ended the capture with {} ({})", cudaGetErrorName(end), cudaGetErrorString(end));
  cudaGraphExec_t exec = nullptr;
  if (why.empty()) {
    const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
    if (e != cudaSuccess)
      why = fmt::format("instantiating the graph failed with {} ({})", cudaGetErrorName(e), cudaGetErrorString(e));
  }
  if (graph && cudaGraphDestroy(graph) != cudaSuccess) (void)cudaGetLastError();
  if (!why.empty()) {
    (void)cudaGetLastError();  // a capture error is not sticky: the context stays usable
    fail("the training step could not be captured as a CUDA graph: {}", why);
  }
  return new CudaGraphExec{exec};
}

void cuda_graph_launch(CudaState& s, CudaGraphExec* g) { ROTOR_CUDA_CHECK(cudaGraphLaunch(g->exec, s.stream)); }

void cuda_graph_destroy(CudaGraphExec* g) noexcept {
  if (g && g->exec && cudaGraphExecDestroy(g->exec) != cudaSuccess) (void)cudaGetLastError();
  delete g;
}

// From pageable memory the driver stages the bytes before returning (it may
// wait for the stream to do so), so the caller may reuse `src` at once.
void cuda_copy_to_device_async(CudaState& s, void* dst, const void* src, size_t bytes) {
  ROTOR_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s.stream));
}

}  // namespace rotor
