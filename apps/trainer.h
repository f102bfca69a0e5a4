// Trainer: epochs of minibatch training and evaluation of one model on one
// data split, on the context's device.
//
// The data set is uploaded once as uint8; each step gathers, augments and
// normalises its batch where the model runs, runs forward and backward on a
// fresh Graph and updates the parameters. Loss and correct counts are summed
// on the device and read once per epoch. The shuffle of every epoch comes
// from ctx.rng() and the per-sample augmentation from (seed, epoch, index),
// so a run is reproducible and can be resumed exactly (see checkpoint.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "apps/sparsity.h"
#include "data/dataset.h"
#include "engine/optim.h"
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

class Trainer {
 public:
  Trainer(Context& ctx, Model& model, const DataSplit& data, const TrainSettings& settings);

  // step (1-based) of steps, seconds since the epoch started, and the
  // epoch's running mean loss (read from the device when called, so a caller
  // that draws only now and then does not synchronise every step).
  using Progress =
      std::function<void(int64_t step, int64_t steps, double seconds, const std::function<double()>& running_loss)>;
  // Trains epoch epochs_done()+1 and evaluates on the test set.
  EpochResult train_epoch(const Progress& progress = {});

  int64_t epochs_done() const { return epochs_done_; }
  void set_epochs_done(int64_t e) { epochs_done_ = e; }
  int64_t steps_per_epoch() const;
  Optimizer& optimizer() { return optimizer_; }
  const TrainSettings& settings() const { return settings_; }
  const DeviceDataset& test_data() const { return test_; }

 private:
  Context& ctx_;
  Model& model_;
  TrainSettings settings_;
  DeviceDataset train_, test_;
  Optimizer optimizer_;
  ProximalL1 proximal_;
  int64_t epochs_done_ = 0;
};

}  // namespace rotor
