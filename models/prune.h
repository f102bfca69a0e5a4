// Pruning by slope magnitude: a channel whose RReLU slope has |b| < gamma
// is dead. Other criteria (PruneBy) score a channel by its batch-norm scale
// |gamma_BN| (network slimming; works for ReLU networks too) or by the
// product |gamma_BN * b|; the same physical pruning removes what they kill.
//
//   mask_slopes   the masked network: dead slopes set to 0 (same shapes)
//   prune_model   the physically smaller network that computes exactly what
//                 the masked one computes (in evaluation mode): dead
//                 channels' filters, batch-norm entries and slopes are
//                 removed from their producer, and their input slices from
//                 every consumer (see live_channels.h for residual streams)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/model.h"

namespace rotor {

// What a channel is scored by; it dies when its score is below gamma.
//   slope     |b| of its RReLU slope
//   bn_scale  |gamma_BN| of the batch norm that produces it
//   product   |gamma_BN * b| (the scale of the channel after both)
// Which channels have scores:
//   fcnn    the hidden units (bn1, with bn1.slope)
//   wrn     each block's bn1 and bn2 channels (with their fused slopes)
//   resnet  each block's bn1 channels; after the addition, slope and
//           product kill stream channels by the block's act.slope |b| (the
//           stream keeps its width with a zero slope there), while bn_scale
//           and product kill the residual branch's contribution to a stream
//           channel by |gamma_bn2| (product: |gamma_bn2 * b_act|): conv2's
//           filter goes, the shortcut still reaches the channel.
// A criterion that needs slopes leaves a ReLU network's channels alone.
enum class PruneBy { slope, bn_scale, product };
const char* prune_by_name(PruneBy by);         // "slope", "bn-scale", "product"
PruneBy parse_prune_by(const std::string& s);  // throws naming s

// Returns how many slopes were set to zero.
int64_t mask_slopes(Context& ctx, Model& model, double gamma);

// The masked network of a criterion (same shapes): computes exactly what
// prune_model's network computes. slope: mask_slopes. bn_scale, product: a
// dead channel's batch-norm scale AND shift are zeroed, so its activation
// outputs exactly 0 (zeroing the scale alone would leave act(shift), a
// constant, flowing on); a dead stream channel (product) gets a zero slope.
// Returns how many scores were under gamma.
int64_t mask_channels(Context& ctx, Model& model, double gamma, PruneBy by);

// Works on unpruned and already-pruned models of every architecture; a
// network without slopes (ReLU) comes back unchanged in function by slope
// or product.
std::unique_ptr<Model> prune_model(Context& ctx, Model& model, double gamma, PruneBy by = PruneBy::slope);

// Slope magnitudes of the model, sorted ascending.
std::vector<double> slope_magnitudes(Context& ctx, Model& model);

// Every score of the criterion (what gamma is compared with), sorted
// ascending; slope: slope_magnitudes. Empty when nothing can be pruned by it.
std::vector<double> prune_scores(Context& ctx, Model& model, PruneBy by);

}  // namespace rotor
