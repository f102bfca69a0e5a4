// Pruning by slope magnitude: a channel whose RReLU slope has |b| < gamma
// is dead.
//
//   mask_slopes   the masked network: dead slopes set to 0 (same shapes)
//   prune_model   the physically smaller network that computes exactly what
//                 the masked one computes (in evaluation mode): dead
//                 channels' filters, batch-norm entries and slopes are
//                 removed from their producer, and their input slices from
//                 every consumer (see live_channels.h for residual streams)
#pragma once

#include <memory>

#include "models/model.h"

namespace rotor {

// Returns how many slopes were set to zero.
int64_t mask_slopes(Context& ctx, Model& model, double gamma);

// Works on unpruned and already-pruned models of every architecture; a
// network without slopes (ReLU) comes back unchanged in function.
std::unique_ptr<Model> prune_model(Context& ctx, Model& model, double gamma);

// Slope magnitudes of the model, sorted ascending.
std::vector<double> slope_magnitudes(Context& ctx, Model& model);

}  // namespace rotor
