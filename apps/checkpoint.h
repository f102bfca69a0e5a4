// Training checkpoints: everything a run needs to continue exactly where it
// stopped — model parameters and buffers, optimizer state and step count,
// the random stream, the number of epochs done (and the position inside an
// epoch a signal interrupted), and the id of the run that wrote it.
//
// Stored in the tensor-file container (atomic, checksummed) as "model.*"
// and "optim.*" tensors with a JSON header. Per-sample randomness
// (augmentation, dropout) is a hash of (seed, epoch or step, index), so with
// the Rng state restored a resumed CPU run repeats an uninterrupted one bit
// for bit (same thread count).
#pragma once

#include <optional>
#include <string>

#include "apps/trainer.h"
#include "engine/optim.h"
#include "engine/rng.h"
#include "models/model.h"

namespace rotor {

struct TrainingState {
  int64_t epochs_done = 0;
  Rng::State rng{};
  std::string run_id;  // the run that wrote it (run.json's run_id); "" in checkpoints of older rotors
  // Set when a signal stopped the run inside epoch epochs_done + 1.
  std::optional<PartialEpoch> partial;
};

void save_checkpoint(Context& ctx, const std::string& path, Model& model, Optimizer& optimizer,
                     const TrainingState& state);
// Loads into a model and optimizer built for the same run; a checkpoint of
// another architecture or optimizer is refused naming what differs (the
// caller compares run ids). Tensors of a partial epoch land on ctx's device.
TrainingState load_checkpoint(Context& ctx, const std::string& path, Model& model, Optimizer& optimizer);

}  // namespace rotor
