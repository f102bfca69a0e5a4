// rotor train: the main job. Trains a model on a data set and writes the
// run's files (apps/run_files.h) into --out; --resume DIR continues a run
// from DIR/checkpoint.rotor so that its metrics equal an uninterrupted run's.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <new>
#include <optional>
#include <random>
#include <sstream>

#include "apps/checkpoint.h"
#include "apps/commands.h"
#include "apps/graph_step.h"
#include "apps/progress.h"
#include "apps/recipes.h"
#include "apps/run_files.h"
#include "apps/slope_stats.h"
#include "apps/stop_signal.h"
#include "apps/train_options.h"
#include "data/registry.h"
#include "engine/context.h"
#include "engine/init.h"
#include "engine/tensor_util.h"
#include "models/model_file.h"

namespace rotor {
namespace {

// Fills in what the model learns from the data: geometry, classes,
// normalisation, and whether augmentation is on.
void adapt_to_data(TrainOptions& o, const DataSplit& data) {
  o.spec.in_channels = data.train.channels;
  o.spec.height = data.train.height;
  o.spec.width = data.train.width;
  o.spec.classes = data.classes;
  o.spec.class_names = data.class_names;
  const ChannelStats stats = channel_stats(data.train);
  o.spec.mean = stats.mean;
  o.spec.std = stats.std;
  o.settings.augment = o.augment == "on" || (o.augment == "auto" && data.natural_images);
}

Context make_context(Device device, const TrainOptions& o) {
  ContextOptions c;
  c.device = device;
  c.threads = o.threads;
  c.seed = o.settings.seed;
  c.precision = parse_precision(o.precision);
  return Context(c);
}

// --init type2:FILE / model:FILE start from a model file: the network is
// the file's (a pruned one keeps its channels), geometry and classes must
// match the data. type2 copies weights and batch norm and starts every slope
// at 1 (the method's type-II initialisation); model copies everything.
struct InitFile {
  std::string path;
  bool slopes_too = false;
  TensorFile file;
  ModelSpec spec;
};

std::optional<InitFile> read_init_file(const TrainOptions& o) {
  const bool type2 = o.init.rfind("type2:", 0) == 0, whole = o.init.rfind("model:", 0) == 0;
  if (!type2 && !whole) return std::nullopt;
  InitFile f;
  f.path = o.init.substr(6);
  f.slopes_too = whole;
  f.file = read_tensor_file(f.path);
  f.spec = read_model_spec(f.file, f.path);
  return f;
}

// Adopts the init file's architecture; flags that were given must agree with it.
void adopt_init_architecture(TrainOptions& o, const CommandLine& cl, const InitFile& f) {
  const ModelSpec& from = f.spec;
  ROTOR_CHECK(!cl.has("model") || o.spec.arch == from.arch, "--init {}: {} holds a {} but this run trains a {}", o.init,
              f.path, from.describe(), o.spec.arch);
  ROTOR_CHECK(!f.slopes_too || !cl.has("act") || o.spec.act == from.act,
              "--init {}: {} holds a {} network, not {}", o.init, f.path, activation_name(from.act),
              activation_name(o.spec.act));
  o.spec.arch = from.arch;
  o.spec.live = from.live;
  if (f.slopes_too) o.spec.act = from.act;
  if (!cl.has("dropout")) o.spec.dropout = from.dropout;
  ROTOR_CHECK(from.in_channels == o.spec.in_channels && from.height == o.spec.height && from.width == o.spec.width &&
                  from.classes == o.spec.classes,
              "--init {}: {} holds a {} but the data has {}x{}x{} images in {} classes", o.init, f.path,
              from.describe(), o.spec.in_channels, o.spec.height, o.spec.width, o.spec.classes);
}

void init_from_file(Context& ctx, Model& model, const InitFile& f) {
  for (auto& [name, p] : model.named_parameters()) {
    if (p->group == ParamGroup::slopes && !f.slopes_too) continue;  // type II: slopes start at 1
    const Tensor* src = f.file.find(name);
    ROTOR_CHECK(src && src->shape() == p->value().shape(), "--init: {} has no tensor '{}' of shape {}", f.path, name,
                shape_str(p->value().shape()));
    copy(ctx, *src, p->value());
  }
  for (auto& [name, b] : model.named_buffers()) {
    const Tensor* src = f.file.find(name);
    ROTOR_CHECK(src && src->shape() == b->shape(), "--init: {} has no buffer '{}'", f.path, name);
    copy(ctx, *src, *b);
  }
}

void apply_train_what(Model& model, TrainWhat what) {
  if (what == TrainWhat::all) return;
  const std::string classifier = model.classifier_name() + ".";
  for (auto& [name, p] : model.named_parameters()) {
    const bool is_classifier = name.rfind(classifier, 0) == 0;
    p->set_trainable(p->group == ParamGroup::slopes ||
                     (what == TrainWhat::slopes_and_classifier && is_classifier));
  }
}

Json epoch_json(const EpochResult& r) {
  Json j = Json::object();
  j.set("epoch", r.epoch);
  j.set("lr", r.lr);
  j.set("train_loss", r.train_loss);
  j.set("train_acc", r.train_accuracy);
  j.set("test_loss", r.test.loss);
  j.set("test_acc", r.test.accuracy);
  j.set("epoch_s", r.epoch_seconds);
  j.set("eval_s", r.eval_seconds);
  j.set("img_per_s", r.images_per_second);
  return j;
}

// Keeps the metrics lines of epochs 1..epochs: a run killed after writing a
// line but before its checkpoint repeats that epoch when resumed. A torn
// last line (a write cut short by a full disk or a crash) is dropped with a
// note; any other bad line is an error naming the file and line.
void keep_metrics_up_to(const std::string& path, int64_t epochs) {
  if (!std::filesystem::exists(path)) return;  // stopped before its first epoch ended
  std::ifstream in(path, std::ios::binary);
  std::stringstream whole;
  whole << in.rdbuf();
  ROTOR_CHECK(!in.bad(), "cannot read {}", path);
  std::vector<std::string> lines;
  std::string line;
  for (std::istringstream ss(whole.str()); std::getline(ss, line);) lines.push_back(line);
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string kept;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    int64_t epoch = 0;
    try {
      epoch = Json::parse(lines[i]).at("epoch").as_int("epoch");
    } catch (const Error& e) {
      ROTOR_CHECK(i + 1 == lines.size(), "{}, line {}: {}", path, i + 1, e.what());
      fmt::print("note: dropped the torn last line of {} (line {}, {} bytes: a write that did not finish)\n", path,
                 i + 1, lines[i].size());
      continue;
    }
    if (epoch <= epochs) kept += lines[i] + "\n";
  }
  write_text_file(path, kept);
}

std::string new_run_id() {
  std::random_device device;
  const uint64_t id = (static_cast<uint64_t>(device()) << 32) ^ device();
  return fmt::format("{:016x}", id);
}

// Says what to do about a run that failed during training.
std::string checkpoint_note(const TrainOptions& o, int64_t checkpoint_epoch) {
  if (checkpoint_epoch == 0) return " (no checkpoint was written yet)";
  return fmt::format(" ({}/checkpoint.rotor, after epoch {}, is kept)", o.out, checkpoint_epoch);
}

void save_run_checkpoint(Context& ctx, const TrainOptions& o, Model& model, Trainer& trainer) {
  const std::string path = o.out + "/checkpoint.rotor";
  require_finite_model(ctx, model, path);  // never a checkpoint to resume into NaN
  TrainingState state{trainer.epochs_done(), ctx.rng().state(), o.run_id, trainer.partial()};
  save_checkpoint(ctx, path, model, trainer.optimizer(), state);
}

int stopped_by_signal(const TrainOptions& o, const Trainer& trainer, int signo) {
  const std::optional<PartialEpoch>& p = trainer.partial();
  const std::string where = p ? fmt::format("in epoch {}, after step {} of {}", trainer.epochs_done() + 1, p->step,
                                            trainer.steps_per_epoch())
                              : fmt::format("after epoch {}", trainer.epochs_done());
  fmt::print("stopped by {} {}; wrote {}/checkpoint.rotor; continue with: rotor train --resume {}\n",
             signo == SIGINT ? "SIGINT" : "SIGTERM", where, o.out, o.out);
  std::fflush(stdout);
  return 128 + signo;
}

// Trains up to epoch `stop` of the run (o.settings.epochs normally).
// `checkpoint_epoch`: the epoch of the checkpoint on disk (0: none yet).
int run_epochs(Context& ctx, const TrainOptions& o, Model& model, Trainer& trainer, int64_t stop,
               const StopSignals& signals, int64_t checkpoint_epoch) {
  ProgressBar bar;
  const int64_t first = trainer.epochs_done();  // the bar's ETA is for the epochs this process trains
  const auto run_start = std::chrono::steady_clock::now();
  bool graph_fallback_noted = false;
  while (trainer.epochs_done() < stop) {
    const std::string label = fmt::format("epoch {}/{}", trainer.epochs_done() + 1, o.settings.epochs);
    std::optional<EpochResult> result;
    try {
      result = trainer.train_epoch_or_stop(
          [&](int64_t step, int64_t steps, double, const std::function<double()>& loss) {
            if (!bar.due()) return;
            const double done = static_cast<double>((trainer.epochs_done() - first) * steps + step);
            bar.show({label, done / static_cast<double>((stop - first) * steps),
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count(),
                      fmt::format("loss {:.4f}", loss())});
          },
          [&] { return signals.requested(); });
    } catch (const Error& e) {
      bar.clear();
      fail("{}{}", e.what(), checkpoint_note(o, checkpoint_epoch));
    }
    bar.clear();
    if (!result) {  // a signal, inside the epoch
      save_run_checkpoint(ctx, o, model, trainer);
      return stopped_by_signal(o, trainer, signals.signal());
    }
    const EpochResult& last = *result;
    if (const GraphStep* g = trainer.graph_step(); g && !g->fallback_reason().empty() && !graph_fallback_noted) {
      fmt::print("note: steps run eagerly, not as a CUDA graph: {}\n", g->fallback_reason());
      graph_fallback_noted = true;
    }
    fmt::print("epoch {:>3}/{}  loss {:.4f}  train {:6.2f}%  test {:6.2f}%  lr {:.3g}  {} ({:.0f} img/s)\n", last.epoch,
               o.settings.epochs, last.train_loss, 100 * last.train_accuracy, 100 * last.test.accuracy, last.lr,
               format_duration(last.epoch_seconds), last.images_per_second);
    std::fflush(stdout);
    const bool checkpoint_due = last.epoch % o.checkpoint_every == 0 || last.epoch == stop || signals.requested();
    if (checkpoint_due) {
      try {
        require_finite_model(ctx, model, o.out + "/checkpoint.rotor");
      } catch (const Error& e) {
        fail("after epoch {}: {}{}", last.epoch, e.what(), checkpoint_note(o, checkpoint_epoch));
      }
    }
    append_json_line(o.out + "/metrics.jsonl", epoch_json(last));
    if (checkpoint_due) {
      save_run_checkpoint(ctx, o, model, trainer);
      checkpoint_epoch = last.epoch;
    }
    if (signals.requested()) return stopped_by_signal(o, trainer, signals.signal());
  }
  if (trainer.epochs_done() < o.settings.epochs) {
    fmt::print("stopped after epoch {} of {}; continue with: rotor train --resume {}\n", trainer.epochs_done(),
               o.settings.epochs, o.out);
    return 0;
  }

  Json provenance = Json::object();
  provenance.set("trained", o.to_json());
  provenance.set("epochs_done", trainer.epochs_done());
  require_finite_model(ctx, model, o.out + "/model.rotor");
  save_model_file(ctx, o.out + "/model.rotor", model, provenance);
  const EvalResult final_test = evaluate(ctx, model, trainer.test_data(), o.settings.eval_batch);
  const SlopeSummary slopes = summarize_slopes(all_slopes(ctx, model));
  Json summary = Json::object();
  summary.set("test_acc", final_test.accuracy);
  summary.set("test_loss", final_test.loss);
  summary.set("epochs", trainer.epochs_done());
  summary.set("slopes", slopes.to_json());
  write_json_file(o.out + "/summary.json", summary);
  fmt::print("\nfinal test accuracy {:.2f}% after {} epochs\n{}\nwrote {}/model.rotor and {}/metrics.jsonl\n",
             100 * final_test.accuracy, trainer.epochs_done(), slopes.describe(), o.out, o.out);
  return 0;
}

void announce(const TrainOptions& o, const DataSplit& data, Device device, const char* verb) {
  fmt::print("rotor train: {} {} on {} ({} train / {} test images), {} on {}\n", verb, o.spec.describe(), data.name,
             data.train.size(), data.test.size(),
             o.settings.optimizer.kind == OptimizerConfig::Kind::adam ? "adam" : "sgd", device_name(device));
  std::fflush(stdout);
}

void announce_cuda_graph(const TrainOptions& o) {
  if (o.settings.cuda_graph) {
    fmt::print("full-batch steps replay as one CUDA graph after a warm-up step (--cuda-graph off: eager)\n");
    std::fflush(stdout);
  }
}

int64_t stop_epoch(const CommandLine& cl, const TrainOptions& o) {
  return cl.integer("stop-after", o.settings.epochs, 1, o.settings.epochs);
}

// The data must be what the model was built for: geometry, class count and,
// when both know them, the class names (a class folder added between a stop
// and a resume changes them).
void check_data_matches(const ModelSpec& spec, const DataSplit& data, const std::string& source) {
  check_data_fits(spec, data, source);
  ROTOR_CHECK(spec.class_names.empty() || data.class_names.empty() || spec.class_names == data.class_names,
              "{} was trained on the classes {} but {} has {}", source, fmt::join(spec.class_names, ","), data.name,
              fmt::join(data.class_names, ","));
}

// --train-limit / --test-limit: N images of each set, evenly spaced over it
// (after the --val-split draw), so a smoke run's counts are exactly what was
// asked and a class-ordered image folder still gives every class.
DataSplit limited(DataSplit data, const TrainOptions& o) {
  ROTOR_CHECK(o.train_limit <= data.train.size() && o.test_limit <= data.test.size(),
              "--train-limit {} / --test-limit {}: {} has {} training and {} test images", o.train_limit,
              o.test_limit, data.name, data.train.size(), data.test.size());
  if (o.train_limit > 0) data.train = evenly_spaced(data.train, o.train_limit);
  if (o.test_limit > 0) data.test = evenly_spaced(data.test, o.test_limit);
  return data;
}

// Everything is checked (flags, output directory, init file, data, model
// memory) before the output directory is touched, so a failing --force run
// leaves the previous run as it was.
int new_run(const CommandLine& cl, const StopSignals& signals) {
  TrainOptions o = options_from_flags(cl);
  const int64_t stop = stop_epoch(cl, o);
  const Device device = resolve_device(o.device);
  check_run_dir(o.out, cl.on("force"));
  const std::optional<InitFile> init = read_init_file(o);
  const DataSplit data = limited(without_validation(load_data(o.data, o.threads), o.val), o);
  adapt_to_data(o, data);
  if (init) adopt_init_architecture(o, cl, *init);
  ROTOR_CHECK(!cl.has("dropout") || arch_has_dropout(o.spec.arch),
              "--dropout applies to wide ResNets (wrn-*) only; {} (from --init) has no dropout", o.spec.arch);

  o.settings.cuda_graph = use_cuda_graph(o.cuda_graph, device);

  Context ctx = make_context(device, o);
  std::unique_ptr<Model> model = build_model(ctx, o.spec);
  if (init)
    init_from_file(ctx, *model, *init);
  else
    for (auto& [name, p] : model->named_slopes()) init_slopes_type1(ctx, p->value());
  apply_train_what(*model, o.train);
  Trainer trainer(ctx, *model, data, o.settings);
  if (signals.requested()) {
    fmt::print("stopped by a signal before the run started; nothing was written\n");
    return 128 + signals.signal();
  }

  const std::string moved = prepare_run_dir(o.out, cl.on("force"));
  if (!moved.empty()) fmt::print("moved the previous run in {} to {}\n", o.out, moved);
  if (o.threads == 0) o.threads = ctx.pool().size();  // recorded so a resume splits work the same way
  o.run_id = new_run_id();
  write_json_file(o.out + "/run.json", o.to_json());
  save_model_file(ctx, o.out + "/initial.rotor", *model);  // the starting point, for rotor report
  announce(o, data, device, "training");
  announce_cuda_graph(o);
  if (!o.recipe.empty()) fmt::print("recipe {} (rotor train --recipe list shows its flags)\n", o.recipe);
  if (const std::string note = slope_decay_note(o); !note.empty()) fmt::print("{}\n", note);
  return run_epochs(ctx, o, *model, trainer, stop, signals, 0);
}

int resume_run(const CommandLine& cl, const StopSignals& signals) {
  for (const char* fixed : {"model", "act", "data", "batch", "opt", "lr", "momentum", "nesterov", "wd", "slope-wd",
                            "schedule", "milestones", "warmup", "dropout", "augment", "init", "train", "seed",
                            "checkpoint-every", "out", "force", "val-split", "split-seed", "slope-l1", "bn-l1",
                            "recipe", "train-limit", "test-limit"})
    ROTOR_USAGE_CHECK(!cl.has(fixed), "--{} cannot be given with --resume: it is part of the run (only --epochs, --device, "
                                "--cuda-graph, --threads and --precision may be)",
                fixed);
  const std::string dir = cl.text("resume");
  const std::string run_json = dir + "/run.json", checkpoint = dir + "/checkpoint.rotor";
  TrainOptions o;
  try {
    o = TrainOptions::from_json(read_json_file(run_json));
  } catch (const Error& e) {
    const std::string what = e.what();
    fail("--resume {}: {}", dir, what.find(run_json) == std::string::npos ? run_json + ": " + what : what);
  }
  o.out = dir;
  const int64_t own_epochs = o.settings.epochs;
  o.settings.epochs = cl.integer("epochs", own_epochs, 1, 100000);
  if (cl.has("device")) o.device = cl.text("device");
  if (cl.has("cuda-graph")) o.cuda_graph = cl.text("cuda-graph");
  if (cl.has("threads")) o.threads = static_cast<int>(cl.integer("threads", 0, 1, 1024));
  const bool new_precision = cl.has("precision") && cl.text("precision") != o.precision;
  if (cl.has("precision")) o.precision = precision_text(cl.text("precision"));
  const int64_t stop = stop_epoch(cl, o);
  ROTOR_CHECK(std::filesystem::exists(checkpoint), "--resume {}: there is no {} (the run stopped before its first "
              "checkpoint); start it again with --force",
              dir, checkpoint);
  const Device device = resolve_device(o.device);
  o.settings.cuda_graph = use_cuda_graph(o.cuda_graph, device);
  const DataSplit data = limited(without_validation(load_data(o.data, o.threads), o.val), o);
  check_data_matches(o.spec, data, run_json);

  Context ctx = make_context(device, o);
  std::unique_ptr<Model> model = build_model(ctx, o.spec);
  apply_train_what(*model, o.train);
  Trainer trainer(ctx, *model, data, o.settings);
  const TrainingState state = load_checkpoint(ctx, checkpoint, *model, trainer.optimizer());
  ROTOR_CHECK(state.run_id == o.run_id, "--resume {}: {} belongs to another run (run id {}) than {} (run id {}); "
              "it is left from an earlier run in this directory, so resuming would continue that run's weights",
              dir, checkpoint, state.run_id.empty() ? "none" : state.run_id, run_json,
              o.run_id.empty() ? "none" : o.run_id);
  ROTOR_CHECK(state.epochs_done <= o.settings.epochs, "--resume {}: the checkpoint is at epoch {}, past --epochs {}", dir,
              state.epochs_done, o.settings.epochs);
  trainer.set_epochs_done(state.epochs_done);
  trainer.set_partial(state.partial);
  ctx.rng().set_state(state.rng);
  keep_metrics_up_to(dir + "/metrics.jsonl", state.epochs_done);
  if (o.settings.epochs != own_epochs || new_precision) {
    write_json_file(run_json, o.to_json());
    if (o.settings.epochs != own_epochs && o.settings.schedule.kind != ScheduleConfig::Kind::constant)
      fmt::print("note: the {} schedule depends on the run's length; going from {} to {} epochs changes the rates "
                 "of the epochs still to come\n",
                 schedule_kind_name(o.settings.schedule.kind), own_epochs, o.settings.epochs);
  }
  const std::string at =
      state.partial ? fmt::format("resuming epoch {} at step {}:", state.epochs_done + 1, state.partial->step + 1)
                    : fmt::format("resuming at epoch {}:", state.epochs_done + 1);
  announce(o, data, device, at.c_str());
  announce_cuda_graph(o);
  return run_epochs(ctx, o, *model, trainer, stop, signals, state.epochs_done);
}

}  // namespace

int cmd_train(const Args& given) {
  const std::string recipe = recipe_in(given);
  if (recipe == "list") {
    fmt::print("{}", describe_recipes());
    return 0;
  }
  CommandLine cl = train_command_line();
  // A recipe's flags come after the user's, for the flags the user did not give.
  const bool resume = std::find(given.begin(), given.end(), "--resume") != given.end();
  const Args args = recipe.empty() || resume ? given : with_recipe(given, find_recipe(recipe));
  if (!parse_or_help(cl, args)) return 0;
  const StopSignals signals;  // SIGINT/SIGTERM: finish the step, checkpoint, exit 128 + signal
  try {
    return cl.has("resume") ? resume_run(cl, signals) : new_run(cl, signals);
  } catch (const std::bad_alloc&) {
    // Tensors report their own out-of-memory errors; this is host memory of
    // anything else (buffers of a file being written, host copies).
    fail("out of host memory (std::bad_alloc); try a smaller --model or --batch");
  }
}

}  // namespace rotor
