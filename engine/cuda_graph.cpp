#include "engine/cuda_graph.h"

#include "engine/context.h"
#include "engine/error.h"

namespace rotor {

CudaGraph::CudaGraph(Context& ctx) : ctx_(ctx) {
  ROTOR_CHECK(ctx.on_cuda(), "CUDA graphs need a CUDA context (this one runs on {})", device_name(ctx.device()));
  allocator_ = ctx.allocator(Device::cuda);
}

CudaGraph::~CudaGraph() {
  // Replays may still run: the pool's blocks return to the cache only once
  // the device is done with them (never throws; a failure was reported by
  // the call that caused it).
  try {
    ctx_.synchronize();
  } catch (...) {
  }
  reset();
}

void CudaGraph::reset() {
  if (exec_) cuda_graph_destroy(exec_);
  exec_ = nullptr;
  if (pool_ != 0) allocator_->release_pool(pool_);
  pool_ = 0;
}

void CudaGraph::capture(const std::function<void()>& body) {
  if (exec_ || pool_ != 0) {
    ctx_.synchronize();
    reset();
  }
  pool_ = allocator_->create_pool();
  CudaState& state = ctx_.cuda();
  cuda_begin_capture(state);
  allocator_->begin_capture(pool_);
  std::string failure;
  try {
    body();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  allocator_->end_capture();
  try {
    exec_ = cuda_end_capture(state, failure);
  } catch (...) {
    reset();
    throw;
  }
}

void CudaGraph::replay() {
  ROTOR_CHECK(exec_ != nullptr, "CudaGraph::replay: nothing was captured");
  cuda_graph_launch(ctx_.cuda(), exec_);
}

void copy_to_device_async(Context& ctx, void* dst, const void* src, size_t bytes) {
  if (bytes > 0) cuda_copy_to_device_async(ctx.cuda(), dst, src, bytes);
}

}  // namespace rotor
