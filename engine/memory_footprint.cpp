#include "engine/memory_footprint.h"

#include "engine/allocator.h"
#include "engine/context.h"
#if ROTOR_HAVE_CUDA
#include "engine/cuda/cuda_state.h"
#endif

namespace rotor {

MemoryFootprint memory_footprint(Context& ctx) {
  MemoryFootprint f;
  const auto allocator = ctx.allocator(ctx.device());
  f.tensors_in_use = allocator->bytes_in_use();
  f.tensors_held = f.tensors_in_use + allocator->bytes_cached();
#if ROTOR_HAVE_CUDA
  if (ctx.on_cuda()) {
    f.workspace = ctx.cuda().workspace_bytes;
    f.cublas_workspace = ctx.cuda().cublas_workspace_bytes;
  }
#endif
  return f;
}

}  // namespace rotor
