// Training checkpoints: everything a run needs to continue exactly where it
// stopped — model parameters and buffers, optimizer state and step count,
// the random stream, and the number of epochs done.
//
// Stored in the tensor-file container (atomic, checksummed) as "model.*"
// and "optim.*" tensors with a JSON header. Per-sample randomness
// (augmentation, dropout) is a hash of (seed, epoch or step, index), so with
// the Rng state restored a resumed CPU run repeats an uninterrupted one bit
// for bit (same thread count).
#pragma once

#include <string>

#include "engine/optim.h"
#include "engine/rng.h"
#include "models/model.h"

namespace rotor {

struct TrainingState {
  int64_t epochs_done = 0;
  Rng::State rng{};
};

void save_checkpoint(Context& ctx, const std::string& path, Model& model, Optimizer& optimizer,
                     const TrainingState& state);
// Loads into a model and optimizer built for the same run; a checkpoint of
// another architecture or optimizer is refused naming what differs.
TrainingState load_checkpoint(Context& ctx, const std::string& path, Model& model, Optimizer& optimizer);

}  // namespace rotor
