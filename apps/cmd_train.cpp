// rotor train: the main job. Trains a model on a data set and writes the
// run's files (apps/run_files.h) into --out.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/progress.h"
#include "apps/run_files.h"
#include "apps/slope_stats.h"
#include "apps/trainer.h"
#include "data/registry.h"
#include "engine/context.h"
#include "engine/init.h"
#include "models/model_file.h"

namespace rotor {
namespace {

CommandLine train_flags() {
  return CommandLine(
      "train", "Trains a network with ReLU or RReLU activations and writes metrics and a model file.",
      {
          {"model", "NAME", "fcnn, fcnn-<width>, resnet20/32/44/56/110, wrn-16-4, wrn-40-4, wrn-<d>-<k>", "fcnn"},
          {"act", "relu|rrelu", "activation after each batch norm", "rrelu"},
          {"data", "SPEC", "fashion-mnist[:DIR] or mnist:DIR", "fashion-mnist"},
          {"epochs", "N", "epochs to train", "10"},
          {"batch", "N", "minibatch size", "128"},
          {"opt", "sgd|adam", "optimizer", "sgd"},
          {"lr", "X", "(peak) learning rate", "0.1 for sgd, 0.001 for adam"},
          {"momentum", "X", "SGD momentum", "0.9"},
          {"nesterov", "", "Nesterov momentum for SGD", ""},
          {"wd", "X", "weight decay (L2) of weights, batch norm and biases", "5e-4"},
          {"slope-wd", "X", "weight decay of the RReLU slopes", "same as --wd"},
          {"schedule", "KIND", "constant, multistep, cosine or onecycle", "cosine"},
          {"warmup", "FRACTION", "warm-up share of the steps (cosine; onecycle default 0.15)", "0"},
          {"augment", "on|off|auto", "random crop + flip (auto: on for natural images)", "auto"},
          {"seed", "N", "random seed (weights, shuffling, augmentation)", "1"},
          {"device", "auto|cpu|cuda", "where to train (auto: a GPU when there is one)", "auto"},
          {"threads", "N", "CPU threads", "all cores"},
          {"out", "DIR", "output directory", "runs/<model>-<act>"},
          {"force", "", "replace a previous run in --out", ""},
      });
}

struct TrainOptions {
  ModelSpec spec;
  std::string data;
  TrainSettings settings;
  std::string device, augment, out;
  int threads = 0;
  bool force = false;
};

TrainOptions parse_options(const CommandLine& cl) {
  TrainOptions o;
  o.spec.arch = cl.text("model", "fcnn");
  check_arch(o.spec.arch);
  o.spec.act = parse_activation(cl.text("act", "rrelu"));
  o.data = cl.text("data", "fashion-mnist");
  TrainSettings& s = o.settings;
  s.epochs = cl.integer("epochs", 10, 1, 100000);
  s.batch = cl.integer("batch", 128, 2, 1 << 20);
  const std::string opt = cl.text("opt", "sgd");
  ROTOR_CHECK(opt == "sgd" || opt == "adam", "--opt: unknown optimizer '{}' (expected sgd or adam)", opt);
  s.optimizer.kind = opt == "adam" ? OptimizerConfig::Kind::adam : OptimizerConfig::Kind::sgd;
  s.optimizer.momentum = cl.number("momentum", 0.9, 0, 1);
  s.optimizer.nesterov = cl.on("nesterov");
  ROTOR_CHECK(!s.optimizer.nesterov || opt == "sgd", "--nesterov applies to --opt sgd only");
  ROTOR_CHECK(!s.optimizer.nesterov || s.optimizer.momentum > 0, "--nesterov needs a momentum above 0");
  const double wd = cl.number("wd", 5e-4, 0, 1);
  for (ParamGroup g : {ParamGroup::weights, ParamGroup::bn, ParamGroup::bias}) s.optimizer.group(g).weight_decay = wd;
  s.optimizer.group(ParamGroup::slopes).weight_decay = cl.number("slope-wd", wd, 0, 1);
  s.schedule.kind = parse_schedule_kind(cl.text("schedule", "cosine"));
  s.schedule.lr = cl.number("lr", opt == "adam" ? 1e-3 : 0.1, 1e-12, 100);
  s.schedule.warmup = cl.number("warmup", 0, 0, 0.99);
  s.seed = static_cast<uint64_t>(cl.integer("seed", 1, 0, INT64_MAX));
  o.device = cl.text("device", "auto");
  o.augment = cl.text("augment", "auto");
  ROTOR_CHECK(o.augment == "on" || o.augment == "off" || o.augment == "auto",
              "--augment: expected on, off or auto, got '{}'", o.augment);
  o.threads = static_cast<int>(cl.integer("threads", 0, 0, 1024));
  o.out = cl.text("out", fmt::format("runs/{}-{}", o.spec.arch, activation_name(o.spec.act)));
  o.force = cl.on("force");
  return o;
}

Json run_description(const TrainOptions& o, const DataSplit& data, Device device) {
  const TrainSettings& s = o.settings;
  Json j = Json::object();
  j.set("model", o.spec.to_json());
  j.set("data", data.name);
  j.set("data_source", data.source);
  j.set("train_images", data.train.size());
  j.set("test_images", data.test.size());
  j.set("device", device_name(device));
  j.set("epochs", s.epochs);
  j.set("batch", s.batch);
  j.set("optimizer", s.optimizer.kind == OptimizerConfig::Kind::adam ? "adam" : "sgd");
  j.set("momentum", s.optimizer.momentum);
  j.set("nesterov", s.optimizer.nesterov);
  Json wd = Json::object();
  for (ParamGroup g : {ParamGroup::weights, ParamGroup::bn, ParamGroup::slopes, ParamGroup::bias})
    wd.set(param_group_name(g), s.optimizer.group(g).weight_decay);
  j.set("weight_decay", wd);
  j.set("schedule", schedule_kind_name(s.schedule.kind));
  j.set("lr", s.schedule.lr);
  j.set("warmup", s.schedule.warmup);
  j.set("augment", s.augment);
  j.set("seed", static_cast<int64_t>(s.seed));
  return j;
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

}  // namespace

int cmd_train(const Args& args) {
  CommandLine cl = train_flags();
  cl.parse(args);
  if (cl.help_requested()) {
    std::fputs(cl.usage().c_str(), stdout);
    return 0;
  }
  TrainOptions o = parse_options(cl);
  const Device device = resolve_device(o.device);
  prepare_run_dir(o.out, o.force);

  const DataSplit data = load_data(o.data);
  o.spec.in_channels = data.train.channels;
  o.spec.height = data.train.height;
  o.spec.width = data.train.width;
  o.spec.classes = data.classes;
  o.spec.class_names = data.class_names;
  const ChannelStats stats = channel_stats(data.train);
  o.spec.mean = stats.mean;
  o.spec.std = stats.std;
  o.settings.augment = o.augment == "on" || (o.augment == "auto" && data.natural_images);

  ContextOptions copts;
  copts.device = device;
  copts.threads = o.threads;
  copts.seed = o.settings.seed;
  Context ctx(copts);
  std::unique_ptr<Model> model = build_model(ctx, o.spec);
  for (auto& [name, p] : model->named_slopes()) init_slopes_type1(ctx, p->value());

  const Json description = run_description(o, data, device);
  write_json_file(o.out + "/run.json", description);
  fmt::print("rotor train: {} on {} ({} train / {} test images), {} on {}\n", o.spec.describe(), data.name,
             data.train.size(), data.test.size(), description.at("optimizer").as_string(), device_name(device));
  std::fflush(stdout);

  Trainer trainer(ctx, *model, data, o.settings);
  ProgressBar bar;
  EpochResult last;
  for (int64_t e = trainer.epochs_done(); e < o.settings.epochs; ++e) {
    const std::string label = fmt::format("epoch {}/{}", e + 1, o.settings.epochs);
    last = trainer.train_epoch(
        [&](int64_t step, int64_t steps, double seconds) { bar.update(label, step, steps, seconds); });
    bar.clear();
    fmt::print("epoch {:>3}/{}  loss {:.4f}  train {:6.2f}%  test {:6.2f}%  lr {:.3g}  {} ({:.0f} img/s)\n", last.epoch,
               o.settings.epochs, last.train_loss, 100 * last.train_accuracy, 100 * last.test.accuracy, last.lr,
               format_duration(last.epoch_seconds), last.images_per_second);
    std::fflush(stdout);
    append_json_line(o.out + "/metrics.jsonl", epoch_json(last));
  }

  Json provenance = Json::object();
  provenance.set("trained", description);
  save_model_file(ctx, o.out + "/model.rotor", *model, provenance);
  const SlopeSummary slopes = summarize_slopes(all_slopes(ctx, *model));
  Json summary = Json::object();
  summary.set("test_acc", last.test.accuracy);
  summary.set("test_loss", last.test.loss);
  summary.set("epochs", last.epoch);
  summary.set("slopes", slopes.to_json());
  write_json_file(o.out + "/summary.json", summary);
  fmt::print("\nfinal test accuracy {:.2f}% after {} epochs\n{}\nwrote {}/model.rotor and {}/metrics.jsonl\n",
             100 * last.test.accuracy, last.epoch, slopes.describe(), o.out, o.out);
  return 0;
}

}  // namespace rotor
