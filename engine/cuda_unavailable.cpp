// The CUDA half of the engine for builds without the CUDA toolkit: every
// entry point reports that the backend is missing (resolve_device stops
// users before they get here).
#include "engine/allocator.h"
#include "engine/context.h"
#include "engine/cuda_graph.h"
#include "engine/error.h"

namespace rotor {

bool cuda_compiled() { return false; }
int cuda_device_count() { return 0; }
std::string cuda_unavailable_reason() {
  return "this build of rotor has no CUDA backend (nvcc was not found when it was configured)";
}

std::shared_ptr<Allocator> make_cuda_allocator(int) { fail("this build of rotor has no CUDA backend"); }
CudaState* create_cuda_state(int) { fail("this build of rotor has no CUDA backend"); }
void destroy_cuda_state(CudaState*) {}
void cuda_synchronize(CudaState&) {}
void cuda_copy_bytes(CudaState&, void*, Device, const void*, Device, size_t) {
  fail("this build of rotor has no CUDA backend");
}

void cuda_begin_capture(CudaState&) { fail("this build of rotor has no CUDA backend"); }
CudaGraphExec* cuda_end_capture(CudaState&, const std::string&) { fail("this build of rotor has no CUDA backend"); }
void cuda_graph_launch(CudaState&, CudaGraphExec*) { fail("this build of rotor has no CUDA backend"); }
void cuda_graph_destroy(CudaGraphExec*) noexcept {}
void cuda_copy_to_device_async(CudaState&, void*, const void*, size_t) {
  fail("this build of rotor has no CUDA backend");
}

}  // namespace rotor
