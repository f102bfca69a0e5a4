// What `rotor report` reads besides the model's tensors: the provenance in
// the model file's header (data set, epochs trained, or the model a pruned
// file came from), metrics.jsonl of the training run, and prune.json with
// the gamma sweep of `rotor prune`. Each reader throws one error naming the
// file (and line or field) that is wrong.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apps/gamma_search.h"
#include "apps/provenance.h"
#include "engine/json.h"
#include "models/prune.h"

namespace rotor {

// The line under every figure's title: model, data set, epoch and gamma.
struct FigureCaption {
  std::string model;                 // ModelSpec::describe()
  Provenance provenance;
  bool has_slopes = true;            // false: a ReLU network
  PruneBy by = PruneBy::slope;       // what gamma is a threshold on
  std::optional<double> gamma;
  std::string gamma_source;          // e.g. "chosen by rotor prune"
  // "fcnn (rrelu), ... | data fashion-mnist | epoch 3 | γ = 0.05 (...)"; a
  // criterion other than slope is named ("γ = 0.05 by bn-scale (...)"); a
  // ReLU network has no gamma by slope or product ("no slopes (ReLU)").
  std::string subtitle() const;
};

// One line of metrics.jsonl (apps/cmd_train.cpp writes them).
struct EpochMetrics {
  int64_t epoch = 0;
  double lr = 0, train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0;
};
std::vector<EpochMetrics> read_metrics(const std::string& path);

// prune.json of `rotor prune`: gamma, and when gamma was chosen, the sweep.
struct PruneSweep {
  std::string path;
  std::string model_file;    // the model the sweep pruned
  std::string pruned_model;  // the file prune wrote ("" if not named)
  double gamma = 0;
  PruneBy by = PruneBy::slope;  // "by"; files from before prune had --by lack it: slope
  bool chosen = false;     // false: gamma was given with --gamma, no trials
  double tolerance = 0, base_accuracy = 0;  // accuracy of the unpruned model on the choosing half
  std::vector<GammaTrial> trials;           // sorted by gamma
};
PruneSweep read_prune_json(const std::string& path);

}  // namespace rotor
