// Where a model came from, as its file header records it: the training run
// (data set, validation split, epochs) that `rotor train` writes and `rotor
// prune` copies into a pruned file, plus the pruning (original file, gamma,
// criterion).
// One reader for every command: prune needs the data and validation split to
// rebuild the images gamma is chosen on, report the same for its captions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "data/split.h"
#include "engine/json.h"
#include "models/prune.h"

namespace rotor {

struct Provenance {
  std::string data;                    // the training data spec, "" when unknown
  ValidationSplit val;                 // the run's --val-split (disabled when none)
  int64_t epochs = -1;                 // epochs trained, -1 when unknown
  std::string pruned_from;             // a pruned model: the file it was cut from
  std::optional<double> pruned_gamma;  // ... and the threshold used (slope_threshold)
  std::optional<PruneBy> pruned_by;    // ... on which scores (absent in files from before --by)
};

// header: the model file's JSON header; path names the file in errors. A
// record that is there but malformed is an error naming the file and field;
// a missing one leaves the defaults. A pruned model whose header lacks the
// training record (files from before prune copied it) takes it from the
// file it was pruned from when that can still be read.
Provenance read_provenance(const Json& header, const std::string& path);

// A gamma read back from JSON as the float slope magnitude it names: JSON
// numbers are written with 9 significant digits, which read back as a double
// may lie just above that magnitude, and |b| < gamma would then prune one
// slope more than rotor prune did. Rounding to float recovers the magnitude
// exactly. (A gamma given by hand is no magnitude; rounding it changes the
// pruned set only if a slope equals that float exactly.)
inline double slope_threshold(double gamma) { return static_cast<double>(static_cast<float>(gamma)); }

// The same for a criterion's scores: slopes and BN scales are floats
// (slope_threshold); a product |gamma_BN * b| is a double, which JSON writes
// with round-trip digits (engine/json.cpp), and rounding it to a float would
// move it above or below the score it is (one channel more or fewer pruned).
inline double score_threshold(double gamma, PruneBy by) {
  return by == PruneBy::product ? gamma : slope_threshold(gamma);
}

}  // namespace rotor
