// GraphStep: the trainer's full-batch step (forward, loss, backward,
// optimizer update, L1 proximal step, loss/accuracy sums) captured once as
// a CUDA graph (engine/cuda_graph.h) and replayed, so a step costs one
// launch of host time instead of hundreds.
//
// What makes the step replayable: the batch is assembled into fixed
// buffers (x(), labels()) before each run, outside the graph (the gather
// reads the epoch's shuffled indices); the rate, the optimizer's step
// count (Adam's bias corrections, SGD's first step), the L1 thresholds and
// the step's seed (dropout's masks, engine/autograd.h) are read by the
// kernels from a small device buffer that the host rewrites with one copy
// before each replay; every tensor the step
// allocates comes from the allocator's private pool of the graph, at the
// same address every replay; the sums are the trainer's, at fixed
// addresses. The first run is an eager warm-up that leaves every block
// size and the workspace the step needs in the caches, the second captures
// (which runs nothing) and then replays, later runs replay. A replay gives
// the same bits as the eager step (tests/gpu/test_gpu_graph_step.cpp).
//
// Not replayable, hence run eagerly by the trainer: a short last batch
// (another shape). A capture that fails (e.g. a block size
// the warm-up did not leave) runs nothing: the step then runs eagerly, and
// every later one too, with fallback_reason() saying why.
#pragma once

#include <cstdint>
#include <string>

#include "apps/sparsity.h"
#include "engine/cuda_graph.h"
#include "engine/optim.h"
#include "engine/tensor.h"
#include "models/model.h"

namespace rotor {

class GraphStep {
 public:
  // The proximal step runs after the update when sparsity.any().
  GraphStep(Context& ctx, Model& model, Optimizer& optimizer, const ProximalL1& proximal, bool proximal_on,
            int64_t batch);

  // The fixed batch buffers: (batch, C, H, W) f32 and (batch) i32.
  Tensor& x() { return x_; }
  Tensor& labels() { return labels_; }

  // One step on x() and labels() at rate lr (graph_seed: the eager step's
  // Graph seed, which a replay's dropout reads from the device), adding batch * loss to
  // loss_sum (1) f32 and the correct count to correct (1) i64. A change of
  // loss_sum or correct (their storage) captures again.
  void run(double lr, uint64_t graph_seed, Tensor& loss_sum, Tensor& correct);

  bool captured() const { return graph_.captured(); }
  int64_t replays() const { return replays_; }
  // Why the step runs eagerly after a failed capture ("" while it does not).
  const std::string& fallback_reason() const { return fallback_reason_; }

 private:
  void eager(double lr, uint64_t graph_seed, Tensor& loss_sum, Tensor& correct);
  void capture(uint64_t graph_seed, Tensor& loss_sum, Tensor& correct);

  Context& ctx_;
  Model& model_;
  Optimizer& optimizer_;
  const ProximalL1& proximal_;
  bool proximal_on_;
  Tensor x_, labels_;
  // (8) f32 on the device: UpdateScalars (4 floats), the slope and the
  // batch-norm L1 thresholds, then the step's seed (a uint64 in floats 6-7,
  // 8-byte aligned as every allocation is).
  Tensor scalars_dev_;
  CudaGraph graph_;
  bool warmed_up_ = false;
  const void* captured_sums_[2] = {nullptr, nullptr};
  int64_t replays_ = 0;
  std::string fallback_reason_;
};

}  // namespace rotor
