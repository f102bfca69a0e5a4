// Trainer: epochs of minibatch training and evaluation of one model on one
// data split, on the context's device.
//
// The data set is uploaded once as uint8; each step gathers, augments and
// normalises its batch where the model runs, runs forward and backward on a
// fresh Graph and updates the parameters. Loss and correct counts are summed
// on the device and read once per epoch (on the CPU the loss of every step
// is checked at once, as it is already in host memory). The shuffle of every epoch comes
// from ctx.rng() and the per-sample augmentation from (seed, epoch, index),
// so a run is reproducible and can be resumed exactly (see checkpoint.h).
// With settings.cuda_graph (CUDA only) full batches run as one replayed
// CUDA graph (apps/graph_step.h), with the same results bit for bit.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "apps/sparsity.h"
#include "data/dataset.h"
#include "engine/optim.h"
#include "engine/rng.h"
#include "engine/schedule.h"
#include "kernels/augment.h"
#include "models/model.h"

namespace rotor {

struct TrainSettings {
  int64_t epochs = 10;
  int64_t batch = 128;
  int64_t eval_batch = 1000;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  bool augment = false;  // random crop from zero padding + horizontal flip
  int crop_pad = 4;
  uint64_t seed = 0;
  SparsitySettings sparsity;  // L1 proximal steps after each update (apps/sparsity.h)
  bool cuda_graph = false;    // full-batch steps replayed as a CUDA graph (apps/graph_step.h; CUDA only)
};

struct EvalResult {
  double loss = 0, accuracy = 0;
  int64_t count = 0;
};

struct EpochResult {
  int64_t epoch = 0;  // 1-based
  double lr = 0;      // at the epoch's last step
  double train_loss = 0, train_accuracy = 0;
  EvalResult test;
  double epoch_seconds = 0;  // training only (no evaluation)
  double eval_seconds = 0;
  double images_per_second = 0;
};

// A data set uploaded to the device once.
struct DeviceDataset {
  DeviceDataset(Context& ctx, const Dataset& d);
  Tensor images;  // (N, C, H, W) uint8
  Tensor labels;  // (N) int32
  int64_t size, channels, height, width;
};

// The batch-assembly settings for a model's normalisation; augmentation as given.
AugmentSpec augment_spec(const ModelSpec& spec, bool augment, int crop_pad, uint64_t seed, uint64_t epoch);

// Throws unless the data's images and classes are what the model expects
// (`model_name` names the model in the message, e.g. its file).
void check_data_fits(const ModelSpec& spec, const DataSplit& data, const std::string& model_name);

// Loss and accuracy of `model` on `data` with an evaluation graph.
EvalResult evaluate(Context& ctx, Model& model, const DeviceDataset& data, int64_t batch);

// Where an epoch stopped by a signal resumes: the steps done, the random
// stream as the epoch began (its shuffle is drawn again from it) and the
// sums so far, so the finished epoch equals an uninterrupted one.
struct PartialEpoch {
  int64_t step = 0;  // steps done in epoch epochs_done() + 1
  Rng::State rng_at_start{};
  double lr = 0;
  int64_t seen = 0;
  Tensor loss_sum, correct;  // (1) f32 and (1) i64, on the trainer's device
};

// What one training step leaves on the device (nothing is read back).
struct StepOutput {
  Tensor loss;    // (1) mean softmax cross-entropy of the batch
  Tensor logits;  // (N, classes)
};

// One training step, as Trainer::train_epoch runs it and bench_cuda times
// it: forward of x (N, C, H, W) on a training Graph seeded with graph_seed,
// softmax cross-entropy against labels (N), backward, and the optimizer's
// update at rate lr (which leaves the gradients zeroed for the next step).
// check_loss, when given, sees the loss before the backward pass and may
// throw, so a diverged step never reaches the parameters.
StepOutput train_step(Context& ctx, Model& model, Optimizer& optimizer, const Tensor& x, const Tensor& labels,
                      double lr, uint64_t graph_seed, const std::function<void(const Tensor& loss)>& check_loss = {});
// train_step without the update: the gradients are left accumulated in the
// parameters' (a captured step adds its own update, apps/graph_step.h,
// and passes step_seed_dev: where its replays' seeds will be, see Graph).
StepOutput forward_backward(Context& ctx, Model& model, const Tensor& x, const Tensor& labels, uint64_t graph_seed,
                            const std::function<void(const Tensor& loss)>& check_loss = {},
                            const uint64_t* step_seed_dev = nullptr);
// Adds a step's batch * loss to loss_sum (1) f32 and its correct count to
// correct (1) i64, on the device.
void tally_step(Context& ctx, const StepOutput& step, const Tensor& labels, Tensor& loss_sum, Tensor& correct);

class GraphStep;

class Trainer {
 public:
  Trainer(Context& ctx, Model& model, const DataSplit& data, const TrainSettings& settings);
  ~Trainer();

  // step (1-based) of steps, seconds since the epoch started, and the
  // epoch's running mean loss (read from the device when called, so a caller
  // that draws only now and then does not synchronise every step).
  using Progress =
      std::function<void(int64_t step, int64_t steps, double seconds, const std::function<double()>& running_loss)>;
  // Polled between steps; true stops the epoch after the current step.
  using StopCheck = std::function<bool()>;
  // Trains epoch epochs_done()+1 (from partial() when set) and evaluates on
  // the test set. Returns nothing when `stop` asked to stop inside the
  // epoch: partial() then says where. Throws when the training loss is not
  // finite, naming the epoch and step (on CUDA the loss reaches the host once
  // per epoch, so there the step is the epoch's last).
  std::optional<EpochResult> train_epoch_or_stop(const Progress& progress, const StopCheck& stop);
  // The same without a stop: the whole epoch.
  EpochResult train_epoch(const Progress& progress = {}) { return *train_epoch_or_stop(progress, {}); }

  const std::optional<PartialEpoch>& partial() const { return partial_; }
  void set_partial(std::optional<PartialEpoch> p) { partial_ = std::move(p); }

  int64_t epochs_done() const { return epochs_done_; }
  void set_epochs_done(int64_t e) { epochs_done_ = e; }
  int64_t steps_per_epoch() const;
  Optimizer& optimizer() { return optimizer_; }
  const TrainSettings& settings() const { return settings_; }
  const DeviceDataset& test_data() const { return test_; }
  // The CUDA graph step (nullptr without settings.cuda_graph).
  const GraphStep* graph_step() const { return graph_.get(); }

 private:
  Context& ctx_;
  Model& model_;
  TrainSettings settings_;
  DeviceDataset train_, test_;
  Optimizer optimizer_;
  ProximalL1 proximal_;
  // The epoch's loss and correct-count sums, (1) f32 and (1) i64: one pair
  // for the whole run, so a captured step adds to the same addresses.
  Tensor loss_sum_, correct_;
  std::unique_ptr<GraphStep> graph_;
  int64_t epochs_done_ = 0;
  std::optional<PartialEpoch> partial_;
};

// Throws unless every parameter and buffer of the model is finite, naming
// the first that is not and `what` was about to be written.
void require_finite_model(Context& ctx, Model& model, const std::string& what);

}  // namespace rotor
