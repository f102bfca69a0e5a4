#include "apps/graph_step.h"

#include <cstring>

#include "apps/trainer.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/tensor_util.h"

namespace rotor {

GraphStep::GraphStep(Context& ctx, Model& model, Optimizer& optimizer, const ProximalL1& proximal, bool proximal_on,
                     int64_t batch)
    : ctx_(ctx),
      model_(model),
      optimizer_(optimizer),
      proximal_(proximal),
      proximal_on_(proximal_on),
      graph_(ctx) {
  const ModelSpec& spec = model.spec();
  x_ = Tensor::empty(ctx, {batch, spec.in_channels, spec.height, spec.width});
  labels_ = Tensor::empty(ctx, {batch}, DType::i32);
  scalars_dev_ = Tensor::empty(ctx, {8});
  fill(ctx, scalars_dev_, 0.0f);
}

void GraphStep::eager(double lr, uint64_t graph_seed, Tensor& loss_sum, Tensor& correct) {
  const StepOutput out = train_step(ctx_, model_, optimizer_, x_, labels_, lr, graph_seed);
  if (proximal_on_) proximal_.apply(ctx_, lr);
  tally_step(ctx_, out, labels_, loss_sum, correct);
}

void GraphStep::capture(uint64_t graph_seed, Tensor& loss_sum, Tensor& correct) {
  const auto* update = reinterpret_cast<const UpdateScalars*>(scalars_dev_.f32());
  const float* thresholds = scalars_dev_.f32() + 4;
  const auto* step_seed = reinterpret_cast<const uint64_t*>(scalars_dev_.f32() + 6);
  static_assert(sizeof(UpdateScalars) == 4 * sizeof(float), "scalars_dev_ holds UpdateScalars in its first 4 floats");
  graph_.capture([&] {
    const StepOutput out = forward_backward(ctx_, model_, x_, labels_, graph_seed, {}, step_seed);
    optimizer_.step_reading(update);
    if (proximal_on_) proximal_.apply_reading(ctx_, thresholds);
    tally_step(ctx_, out, labels_, loss_sum, correct);
  });
  captured_sums_[0] = loss_sum.raw();
  captured_sums_[1] = correct.raw();
}

void GraphStep::run(double lr, uint64_t graph_seed, Tensor& loss_sum, Tensor& correct) {
  if (!warmed_up_ || !fallback_reason_.empty()) {
    eager(lr, graph_seed, loss_sum, correct);
    warmed_up_ = true;
    return;
  }
  if (!graph_.captured() || captured_sums_[0] != loss_sum.raw() || captured_sums_[1] != correct.raw()) {
    try {
      capture(graph_seed, loss_sum, correct);
    } catch (const Error& e) {
      // Nothing recorded ran and the host state is as before the capture
      // (the update is counted only when replayed): this step and the
      // following ones run eagerly.
      fallback_reason_ = e.what();
      eager(lr, graph_seed, loss_sum, correct);
      return;
    }
  }
  // This step's values, where the captured kernels read them.
  float host[8] = {};
  const UpdateScalars update = optimizer_.step_scalars(lr);
  std::memcpy(host, &update, sizeof update);
  const std::array<float, 2> thresholds = proximal_.thresholds(lr);
  host[4] = thresholds[0];
  host[5] = thresholds[1];
  std::memcpy(host + 6, &graph_seed, sizeof graph_seed);
  copy_to_device_async(ctx_, scalars_dev_.raw(), host, sizeof host);
  graph_.replay();
  optimizer_.count_step();
  ++replays_;
}

}  // namespace rotor
