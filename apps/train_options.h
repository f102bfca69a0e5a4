// Everything that defines a training run, as parsed from the command line
// and as saved in DIR/run.json, so `rotor train --resume DIR` rebuilds the
// identical run.
#pragma once

#include <string>

#include "apps/cli.h"
#include "apps/trainer.h"
#include "data/split.h"
#include "engine/json.h"
#include "models/model.h"

namespace rotor {

// Which parameters train: all, or only the slopes (the coarse-feature step
// of the method), optionally with the classifier.
enum class TrainWhat { all, slopes, slopes_and_classifier };
const char* train_what_name(TrainWhat w);
TrainWhat parse_train_what(const std::string& s);

struct TrainOptions {
  ModelSpec spec;          // geometry, classes and normalisation filled in from the data
  std::string data = "fashion-mnist";
  ValidationSplit val;  // training images held out (--val-split), never trained on
  TrainSettings settings;
  std::string init = "type1";  // type1 | type2:MODEL_FILE
  TrainWhat train = TrainWhat::all;
  std::string augment = "auto";  // on | off | auto
  std::string device = "auto";
  // --cuda-graph on | off | auto: full-batch steps replayed as a CUDA graph
  // (apps/graph_step.h); resolved against the device by use_cuda_graph.
  std::string cuda_graph = "auto";
  int threads = 0;
  std::string precision = "tf32";  // fp32 | tf32: what CUDA convolutions multiply in
  int64_t checkpoint_every = 1;  // epochs; the last epoch always writes one
  std::string out;
  // Random, made when a run starts; written into run.json and every
  // checkpoint, so --resume never continues another run's checkpoint.
  std::string run_id;
  std::string recipe;  // --recipe NAME, "" without one (apps/recipes.h)
  // --train-limit / --test-limit: the first N images of each set (0: all),
  // after any --val-split, for smoke runs.
  int64_t train_limit = 0, test_limit = 0;
  // The rotor that started the run (apps/version.h); kept across resumes.
  std::string version, commit;

  Json to_json() const;
  // Every field checked against its flag's range; an error names the field.
  static TrainOptions from_json(const Json& j);
};

// The flags of `rotor train`.
CommandLine train_command_line();
// Options of a new run from parsed flags (everything checked, no data read).
// Refuses flags that would do nothing in this run (e.g. --dropout on fcnn).
TrainOptions options_from_flags(const CommandLine& cl);
// Runs shorter than this get slope_decay_note's advice.
constexpr int64_t short_run_epochs = 200;
// A one-line note ("" when none) when an RReLU run's slopes get no more
// weight decay than the weights, no --slope-l1, and the run is short: then
// the slopes do not separate into pruneable and kept ones. Not a changed
// default: the paper's recipes use one weight decay for all parameters over
// 1200 epochs (docs/method.md).
std::string slope_decay_note(const TrainOptions& o);
// Whether this run replays its steps as a CUDA graph. auto (the default)
// is on for CUDA and off on the CPU; on with a CPU device is a usage error.
bool use_cuda_graph(const std::string& mode, Device device);
// Whether the architecture has dropout (wide ResNets).
bool arch_has_dropout(const std::string& arch);

}  // namespace rotor
