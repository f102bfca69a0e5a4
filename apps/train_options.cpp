#include "apps/train_options.h"

#include "apps/commands.h"
#include "apps/recipes.h"
#include "apps/version.h"

#include <fmt/format.h>

#include <cmath>
#include <sstream>

namespace rotor {

const char* train_what_name(TrainWhat w) {
  switch (w) {
    case TrainWhat::all: return "all";
    case TrainWhat::slopes: return "slopes";
    case TrainWhat::slopes_and_classifier: return "slopes+classifier";
  }
  return "?";
}

TrainWhat parse_train_what(const std::string& s) {
  if (s == "all") return TrainWhat::all;
  if (s == "slopes") return TrainWhat::slopes;
  if (s == "slopes+classifier" || s == "slopes+fc") return TrainWhat::slopes_and_classifier;
  fail("--train: expected all, slopes or slopes+classifier, got '{}'", s);
}

CommandLine train_command_line() {
  return CommandLine(
      "train",
      "Trains a network with ReLU or RReLU activations and writes run.json, metrics.jsonl, checkpoint.rotor,\n"
      "model.rotor and summary.json into --out. `rotor train --resume DIR [--epochs N]` continues a run.",
      {
          {"model", "NAME", "fcnn, fcnn-<width>, resnet20/32/44/56/110, wrn-16-4, wrn-40-4, wrn-<d>-<k>", "fcnn"},
          {"act", activation_choices(), "activation after each batch norm", "rrelu"},
          {"data", "SPEC", "fashion-mnist[:DIR], mnist:DIR, cifar10:DIR, cifar100:DIR, svhn:DIR, folder:DIR",
           "fashion-mnist"},
          {"val-split", "FRACTION", "hold out this share of the training images (stratified) for rotor prune", "0"},
          {"split-seed", "N", "seed of the --val-split draw", "1"},
          {"epochs", "N", "epochs in the run (with --resume: train up to N epochs in all)", "10"},
          {"batch", "N", "minibatch size", "128"},
          {"opt", "sgd|adam", "optimizer", "sgd"},
          {"lr", "X", "(peak) learning rate", "0.1 for sgd, 0.001 for adam"},
          {"momentum", "X", "SGD momentum", "0.9"},
          {"nesterov", "", "Nesterov momentum for SGD", ""},
          {"wd", "X", "weight decay (L2) of weights, batch norm and biases", "5e-4"},
          {"slope-wd", "X", "weight decay of the RReLU slopes", "same as --wd"},
          {"schedule", "KIND", "constant, multistep, cosine or onecycle", "cosine"},
          {"milestones", "E1,E2,..", "multistep: epochs where the rate drops 10x", "50% and 75% of --epochs"},
          {"warmup", "FRACTION", "share of steps for warm-up (cosine) / rising (onecycle)", "0; onecycle 0.15"},
          {"dropout", "P", "dropout inside wide-ResNet blocks", "0"},
          {"augment", "on|off|auto", "random crop from 4-pixel padding + flip (auto: on for natural images)", "auto"},
          {"init", "type1|type2:FILE|model:FILE",
           "type1: Kaiming weights, slopes from the truncated mixture; type2: weights and BN of a trained model "
           "file, slopes 1; model: everything from a model file (e.g. fine-tune a pruned one). With a file, the "
           "network is the file's",
           "type1"},
          {"train", "all|slopes|slopes+classifier", "which parameters train (slopes: weights frozen)", "all"},
          {"seed", "N", "random seed (weights, shuffling, augmentation)", "1"},
          {"device", "auto|cpu|cuda", "where to train (auto: a GPU when there is one)", "auto"},
          {"cuda-graph", "on|off|auto",
           "replay each full-batch step as one CUDA graph (same results, less launch time; auto: on for CUDA)",
           "auto"},
          {"threads", "N", "CPU threads (a resumed CPU run is bit-exact with the same count)", "all cores"},
          precision_flag(),
          {"checkpoint-every", "N", "write DIR/checkpoint.rotor every N epochs (and after the last)", "1"},
          {"out", "DIR", "output directory", "runs/<model>-<act>"},
          {"force", "", "replace a previous run in --out", ""},
          {"resume", "DIR", "continue the run in DIR from its checkpoint", ""},
          {"recipe", "NAME", "start from one of the paper's recipes; flags given override it (list: --recipe list)",
           ""},
          {"train-limit", "N", "train on the first N training images only (a smoke run)", "all"},
          {"test-limit", "N", "evaluate on the first N test images only", "all"},
          {"stop-after", "K", "stop after epoch K of the run (resume it later with --resume)", ""},
          // Explicit sparsity (apps/sparsity.h): L1 proximal steps after each update.
          {"slope-l1", "LAMBDA", "L1 on the RReLU slopes: after each step |b| shrinks by lr*LAMBDA, stopping at 0",
           "0"},
          {"bn-l1", "LAMBDA",
           "L1 on the batch-norm scales (network slimming): after each step |gamma| shrinks by lr*LAMBDA, "
           "stopping at 0",
           "0"},
      });
}

static std::vector<double> parse_milestones(const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    ROTOR_USAGE_CHECK(!item.empty() && end == item.c_str() + item.size() && v >= 0,
                "--milestones: expected epochs separated by commas, got '{}'", text);
    ROTOR_USAGE_CHECK(out.empty() || v > out.back(), "--milestones must increase, got '{}'", text);
    out.push_back(v);
  }
  return out;
}

bool arch_has_dropout(const std::string& arch) { return arch.rfind("wrn", 0) == 0; }

static void check_cuda_graph_mode(const std::string& mode, const char* where) {
  ROTOR_USAGE_CHECK(mode == "on" || mode == "off" || mode == "auto", "{}: expected on, off or auto, got '{}'", where,
                    mode);
}

// auto is on for CUDA: a replayed step gives the eager step's bits (the
// emulation's tests) for one launch of host time instead of hundreds, and a
// user who trains on a GPU wants the faster of two identical runs. The CPU
// has no graphs. Dropout replays too: its kernels read the step's seed from
// device memory (apps/graph_step.h).
bool use_cuda_graph(const std::string& mode, Device device) {
  check_cuda_graph_mode(mode, "--cuda-graph");
  if (mode == "off") return false;
  const bool on = mode == "on";
  ROTOR_USAGE_CHECK(!on || device == Device::cuda, "--cuda-graph on needs --device cuda (this run trains on {})",
                    device_name(device));
  return device == Device::cuda;
}

// A flag that cannot change this run is a usage error, not silently ignored:
// the user believes it did something. (--slope-wd with ReLU stays allowed:
// ReLU-vs-RReLU comparisons such as bench/gpu-cifar.sh pass one flag set.)
static void refuse_idle_flags(const CommandLine& cl, const TrainOptions& o) {
  using K = ScheduleConfig::Kind;
  const TrainSettings& s = o.settings;
  const bool from_file = o.init.rfind("type2:", 0) == 0 || o.init.rfind("model:", 0) == 0;
  // With --init FILE the network is the file's: checked once it is read.
  ROTOR_USAGE_CHECK(!cl.has("dropout") || from_file || arch_has_dropout(o.spec.arch),
              "--dropout applies to wide ResNets (wrn-*) only; {} has no dropout", o.spec.arch);
  ROTOR_USAGE_CHECK(!cl.has("warmup") || s.schedule.kind == K::cosine || s.schedule.kind == K::onecycle,
              "--warmup applies to --schedule cosine or onecycle, not {}", schedule_kind_name(s.schedule.kind));
  ROTOR_USAGE_CHECK(!cl.has("momentum") || s.optimizer.kind == OptimizerConfig::Kind::sgd,
              "--momentum applies to --opt sgd only (Adam has its own betas)");
  const bool relu = o.spec.act == Activation::relu && o.init.rfind("model:", 0) != 0;
  ROTOR_USAGE_CHECK(!relu || o.train == TrainWhat::all, "--train {} trains the RReLU slopes, but a --act relu network has none",
              train_what_name(o.train));
}

// --slope-l1 and --bn-l1 (apps/sparsity.h).
static void sparsity_from_flags(const CommandLine& cl, TrainOptions& o) {
  SparsitySettings& sp = o.settings.sparsity;
  sp.slope_l1 = cl.number("slope-l1", 0, 0, 1e6);
  sp.bn_l1 = cl.number("bn-l1", 0, 0, 1e6);
  ROTOR_USAGE_CHECK(sp.slope_l1 == 0 || activation_info(o.spec.act).has_slope,
                    "--slope-l1 needs --act rrelu (a ReLU network has no slopes)");
}

// Every error found here is about the flags (nothing is read yet): a usage
// error, exit 2, whichever helper (check_arch, parse_activation, ...) threw it.
static TrainOptions options_from_flags_unchecked(const CommandLine& cl);

TrainOptions options_from_flags(const CommandLine& cl) {
  try {
    return options_from_flags_unchecked(cl);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

std::string slope_decay_note(const TrainOptions& o) {
  const TrainSettings& s = o.settings;
  const double weights = s.optimizer.group(ParamGroup::weights).weight_decay;
  const double slopes = s.optimizer.group(ParamGroup::slopes).weight_decay;
  if (!activation_info(o.spec.act).has_slope || s.sparsity.slope_l1 > 0 || slopes > weights ||
      s.epochs >= short_run_epochs)
    return "";
  return fmt::format(
      "note: the slopes' weight decay is the weights' ({:g}) and the run is short ({} epochs): few slopes will "
      "separate from the rest to be pruned (the paper trains 1200 epochs); for a short run try --slope-wd 1e-2 "
      "or --slope-l1 1e-3",
      slopes, s.epochs);
}

static TrainOptions options_from_flags_unchecked(const CommandLine& cl) {
  TrainOptions o;
  o.spec.arch = cl.text("model", "fcnn");
  check_arch(o.spec.arch);
  o.spec.act = parse_activation(cl.text("act", "rrelu"));
  o.spec.dropout = cl.number("dropout", 0, 0, 0.99);
  o.data = cl.text("data", "fashion-mnist");
  o.val.fraction = cl.number("val-split", 0, 0, 0.9);
  o.val.seed = static_cast<uint64_t>(cl.integer("split-seed", 1, 0, INT64_MAX));
  ROTOR_USAGE_CHECK(o.val.enabled() || !cl.has("split-seed"), "--split-seed needs --val-split");
  TrainSettings& s = o.settings;
  s.epochs = cl.integer("epochs", 10, 1, 100000);
  s.batch = cl.integer("batch", 128, 2, 1 << 20);
  const std::string opt = cl.text("opt", "sgd");
  ROTOR_USAGE_CHECK(opt == "sgd" || opt == "adam", "--opt: unknown optimizer '{}' (expected sgd or adam)", opt);
  s.optimizer.kind = opt == "adam" ? OptimizerConfig::Kind::adam : OptimizerConfig::Kind::sgd;
  s.optimizer.momentum = cl.number("momentum", 0.9, 0, 1);
  s.optimizer.nesterov = cl.on("nesterov");
  ROTOR_USAGE_CHECK(!s.optimizer.nesterov || opt == "sgd", "--nesterov applies to --opt sgd only");
  ROTOR_USAGE_CHECK(!s.optimizer.nesterov || s.optimizer.momentum > 0, "--nesterov needs a momentum above 0");
  const double wd = cl.number("wd", 5e-4, 0, 1);
  for (ParamGroup g : {ParamGroup::weights, ParamGroup::bn, ParamGroup::bias}) s.optimizer.group(g).weight_decay = wd;
  s.optimizer.group(ParamGroup::slopes).weight_decay = cl.number("slope-wd", wd, 0, 1);
  s.schedule.kind = parse_schedule_kind(cl.text("schedule", "cosine"));
  s.schedule.lr = cl.number("lr", opt == "adam" ? 1e-3 : 0.1, 1e-12, 100);
  s.schedule.warmup = cl.number("warmup", 0, 0, 0.99);
  if (cl.has("milestones")) {
    ROTOR_USAGE_CHECK(s.schedule.kind == ScheduleConfig::Kind::multistep, "--milestones needs --schedule multistep");
    s.schedule.milestones = parse_milestones(cl.text("milestones"));
  }
  s.seed = static_cast<uint64_t>(cl.integer("seed", 1, 0, INT64_MAX));
  o.init = cl.text("init", "type1");
  ROTOR_USAGE_CHECK(o.init == "type1" || ((o.init.rfind("type2:", 0) == 0 || o.init.rfind("model:", 0) == 0) &&
                                     o.init.size() > 6),
              "--init: expected type1, type2:MODEL_FILE or model:MODEL_FILE, got '{}'", o.init);
  o.train = parse_train_what(cl.text("train", "all"));
  o.augment = cl.text("augment", "auto");
  ROTOR_USAGE_CHECK(o.augment == "on" || o.augment == "off" || o.augment == "auto",
              "--augment: expected on, off or auto, got '{}'", o.augment);
  o.device = device_flag_text(cl);
  o.cuda_graph = cl.text("cuda-graph", "auto");
  check_cuda_graph_mode(o.cuda_graph, "--cuda-graph");
  ROTOR_USAGE_CHECK(o.cuda_graph != "on" || o.device != "cpu", "--cuda-graph on needs --device cuda, not cpu");
  o.threads = static_cast<int>(cl.integer("threads", 0, 0, 1024));
  o.precision = precision_text(cl.text("precision", "tf32"));
  o.checkpoint_every = cl.integer("checkpoint-every", 1, 1, 100000);
  o.train_limit = cl.integer("train-limit", 0, 1, INT64_MAX);
  o.test_limit = cl.integer("test-limit", 0, 1, INT64_MAX);
  if (cl.has("recipe")) o.recipe = find_recipe(cl.text("recipe")).name;
  o.version = rotor_version();
  o.commit = rotor_commit();
  o.out = cl.text("out", fmt::format("runs/{}-{}", o.spec.arch, activation_name(o.spec.act)));
  refuse_idle_flags(cl, o);
  sparsity_from_flags(cl, o);
  return o;
}

Json TrainOptions::to_json() const {
  const TrainSettings& s = settings;
  Json j = Json::object();
  j.set("model", spec.to_json());
  j.set("data", data);
  if (val.enabled()) j.set("val_split", val.to_json());
  j.set("epochs", s.epochs);
  j.set("batch", s.batch);
  j.set("eval_batch", s.eval_batch);
  j.set("optimizer", s.optimizer.kind == OptimizerConfig::Kind::adam ? "adam" : "sgd");
  j.set("momentum", s.optimizer.momentum);
  j.set("nesterov", s.optimizer.nesterov);
  j.set("adam_betas", Json(Json::Array{s.optimizer.beta1, s.optimizer.beta2}));
  j.set("adam_eps", s.optimizer.eps);
  Json wd = Json::object();
  for (int g = 0; g < param_group_count; ++g)
    wd.set(param_group_name(static_cast<ParamGroup>(g)), s.optimizer.groups[g].weight_decay);
  j.set("weight_decay", wd);
  j.set("schedule", schedule_kind_name(s.schedule.kind));
  j.set("lr", s.schedule.lr);
  Json ms = Json::array();
  for (double m : s.schedule.milestones) ms.push(m);
  j.set("milestones", ms);
  j.set("lr_decay", s.schedule.gamma);  // not "gamma": that is the pruning threshold
  j.set("warmup", s.schedule.warmup);
  j.set("augment", augment);
  j.set("augmented", s.augment);
  j.set("crop_pad", s.crop_pad);
  j.set("seed", static_cast<int64_t>(s.seed));
  j.set("init", init);
  j.set("train", train_what_name(train));
  j.set("device", device);
  j.set("cuda_graph", cuda_graph);
  j.set("threads", threads);
  j.set("precision", precision);
  j.set("checkpoint_every", checkpoint_every);
  j.set("out", out);
  if (!run_id.empty()) j.set("run_id", run_id);
  if (!recipe.empty()) j.set("recipe", recipe);
  if (train_limit > 0) j.set("train_limit", train_limit);
  if (test_limit > 0) j.set("test_limit", test_limit);
  if (!version.empty()) j.set("version", version);
  if (!commit.empty()) j.set("commit", commit);
  // Explicit sparsity; files written before these options lack them (0).
  j.set("slope_l1", s.sparsity.slope_l1);
  j.set("bn_l1", s.sparsity.bn_l1);
  return j;
}

// run.json is read back on --resume: every field is held to the range its
// flag allows (a hand-edited eval_batch 0 would divide by zero), and an
// error names the field; the caller adds the file.
namespace {

int64_t int_field(const Json& j, const char* field, int64_t min, int64_t max) {
  const int64_t v = j.at(field).as_int(field);
  ROTOR_CHECK(v >= min && v <= max, "field '{}' is {}, expected {} to {}", field, v, min, max);
  return v;
}

double number_in(const Json& v, const char* field, double min, double max) {
  const double x = v.as_number(field);
  ROTOR_CHECK(std::isfinite(x) && x >= min && x <= max, "field '{}' is {}, expected {} to {}", field, x, min, max);
  return x;
}

double number_field(const Json& j, const char* field, double min, double max) {
  return number_in(j.at(field), field, min, max);
}

}  // namespace

TrainOptions TrainOptions::from_json(const Json& j) {
  TrainOptions o;
  TrainSettings& s = o.settings;
  o.spec = ModelSpec::from_json(j.at("model"));
  check_arch(o.spec.arch);
  ROTOR_CHECK(o.spec.dropout >= 0 && o.spec.dropout <= 0.99, "field 'model.dropout' is {}, expected 0 to 0.99",
              o.spec.dropout);
  for (double sd : o.spec.std)
    ROTOR_CHECK(std::isfinite(sd) && sd > 0, "field 'model.std' holds {}, expected deviations above 0", sd);
  o.data = j.at("data").as_string("data");
  if (const Json* v = j.find("val_split")) o.val = ValidationSplit::from_json(*v);
  s.epochs = int_field(j, "epochs", 1, 100000);
  s.batch = int_field(j, "batch", 2, 1 << 20);
  s.eval_batch = int_field(j, "eval_batch", 1, 1 << 20);
  const std::string opt = j.at("optimizer").as_string("optimizer");
  ROTOR_CHECK(opt == "sgd" || opt == "adam", "field 'optimizer': unknown optimizer '{}'", opt);
  s.optimizer.kind = opt == "adam" ? OptimizerConfig::Kind::adam : OptimizerConfig::Kind::sgd;
  s.optimizer.momentum = number_field(j, "momentum", 0, 1);
  s.optimizer.nesterov = j.at("nesterov").as_bool("nesterov");
  const Json::Array& betas = j.at("adam_betas").as_array("adam_betas");
  ROTOR_CHECK(betas.size() == 2, "field 'adam_betas' has {} values, expected 2", betas.size());
  s.optimizer.beta1 = number_in(betas[0], "adam_betas[0]", 0, 0.999999);
  s.optimizer.beta2 = number_in(betas[1], "adam_betas[1]", 0, 0.999999);
  s.optimizer.eps = number_field(j, "adam_eps", 1e-30, 1);
  for (int g = 0; g < param_group_count; ++g)
    s.optimizer.groups[g].weight_decay =
        number_in(j.at("weight_decay").at(param_group_name(static_cast<ParamGroup>(g))), "weight_decay", 0, 1);
  s.schedule.kind = parse_schedule_kind(j.at("schedule").as_string("schedule"));
  s.schedule.lr = number_field(j, "lr", 1e-12, 100);
  for (const Json& m : j.at("milestones").as_array("milestones")) {
    s.schedule.milestones.push_back(number_in(m, "milestones", 0, 1e9));
    const size_t n = s.schedule.milestones.size();
    ROTOR_CHECK(n == 1 || s.schedule.milestones[n - 1] > s.schedule.milestones[n - 2],
                "field 'milestones' must increase");
  }
  // Runs written before the rename call it "gamma".
  s.schedule.gamma = number_field(j, j.find("lr_decay") ? "lr_decay" : "gamma", 1e-12, 1);
  s.schedule.warmup = number_field(j, "warmup", 0, 0.99);
  o.augment = j.at("augment").as_string("augment");
  ROTOR_CHECK(o.augment == "on" || o.augment == "off" || o.augment == "auto",
              "field 'augment' is '{}', expected on, off or auto", o.augment);
  s.augment = j.at("augmented").as_bool("augmented");
  s.crop_pad = static_cast<int>(int_field(j, "crop_pad", 0, 64));
  s.seed = static_cast<uint64_t>(int_field(j, "seed", 0, INT64_MAX));
  o.init = j.at("init").as_string("init");
  o.train = parse_train_what(j.at("train").as_string("train"));
  o.device = j.at("device").as_string("device");
  o.threads = static_cast<int>(int_field(j, "threads", 0, 1024));
  o.checkpoint_every = int_field(j, "checkpoint_every", 1, 100000);
  o.out = j.at("out").as_string("out");
  if (const Json* id = j.find("run_id")) o.run_id = id->as_string("run_id");
  // Fields that older run.json files lack.
  if (const Json* r = j.find("recipe")) o.recipe = r->as_string("recipe");
  if (j.find("train_limit")) o.train_limit = int_field(j, "train_limit", 1, INT64_MAX);
  if (j.find("test_limit")) o.test_limit = int_field(j, "test_limit", 1, INT64_MAX);
  if (const Json* v = j.find("version")) o.version = v->as_string("version");
  if (const Json* c = j.find("commit")) o.commit = c->as_string("commit");
  if (j.find("slope_l1")) s.sparsity.slope_l1 = number_field(j, "slope_l1", 0, 1e6);
  if (j.find("bn_l1")) s.sparsity.bn_l1 = number_field(j, "bn_l1", 0, 1e6);
  // Files written before the TF32 convolutions lack it: those runs computed
  // in FP32, and a resume keeps doing so (--precision tf32 changes it).
  o.precision = "fp32";
  if (const Json* p = j.find("precision")) {
    o.precision = p->as_string("precision");
    ROTOR_CHECK(o.precision == "fp32" || o.precision == "tf32" || o.precision == "fp16",
                "field 'precision' is '{}', expected fp32, tf32 or fp16", o.precision);
  }
  if (const Json* g = j.find("cuda_graph")) {
    o.cuda_graph = g->as_string("cuda_graph");
    ROTOR_CHECK(o.cuda_graph == "on" || o.cuda_graph == "off" || o.cuda_graph == "auto",
                "field 'cuda_graph' is '{}', expected on, off or auto", o.cuda_graph);
  }
  return o;
}

}  // namespace rotor
