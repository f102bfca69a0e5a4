// rotor prune: choose gamma on images the report does not use, build the
// physically smaller network, report its accuracy, and write DIR/prune.json
// and DIR/pruned.rotor.
//
// Where gamma is chosen (--gamma-from):
//   val        the validation split the model's training run held out of the
//              training images (rotor train --val-split), rebuilt from the
//              model file's provenance; the report uses the whole test set,
//              which then played no part in the choice. The default when the
//              run held one out.
//   test-half  one half of the test set, drawn by a seeded shuffle stratified
//              by class (--split-seed); the report uses the other half. The
//              default otherwise.
// Loaders return images in class order for some data sets (image folders),
// so the halves are never taken by position.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "apps/class_accuracy.h"
#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/cost_report.h"
#include "apps/gamma_search.h"
#include "apps/progress.h"
#include "apps/provenance.h"
#include "apps/run_files.h"
#include "apps/trainer.h"
#include "data/registry.h"
#include "data/split.h"
#include "engine/context.h"
#include "engine/tensor_util.h"
#include "models/model_file.h"
#include "models/prune.h"

namespace rotor {
namespace {

namespace fs = std::filesystem;

// Sets the model's parameters back to `original`, then masks the channels
// the criterion kills at gamma (slopes, or batch-norm scales and shifts).
void apply_mask(Context& ctx, Model& model, const std::vector<std::vector<float>>& original, double gamma,
                PruneBy by) {
  auto params = model.named_parameters();
  for (size_t i = 0; i < params.size(); ++i)
    copy(ctx, from_host(ctx, params[i].second->value().shape(), original[i]), params[i].second->value());
  mask_channels(ctx, model, gamma, by);
}

// Refuses, before any work, an --out that cannot take the results or that
// holds an earlier pruning; the folder itself is made only when writing.
void check_output_dir(const std::string& out, bool force) {
  std::error_code ec;
  const fs::file_status st = fs::status(out, ec);
  if (!fs::exists(st)) return;
  ROTOR_CHECK(fs::is_directory(st),
              "--out {} exists and is not a folder (prune writes prune.json and pruned.rotor "
              "into a folder)",
              out);
  for (const char* name : {"prune.json", "pruned.rotor"}) {
    const fs::path p = fs::path(out) / name;
    ROTOR_CHECK(force || !fs::exists(p),
                "{} already holds a pruning result ({} exists); choose another --out or "
                "pass --force to replace it",
                out, p.string());
  }
}

// The images gamma is chosen on and the images the result is reported on.
struct PruneSets {
  std::string gamma_from;  // "val", "test-half" or "given"
  std::string choose_what, report_what;
  Dataset choose, report;
  uint64_t seed = 0;
};

Json class_counts_json(const Dataset& d, int64_t classes) {
  Json a = Json::array();
  for (int64_t n : class_counts(d, classes)) a.push(n);
  return a;
}

std::string percent(double a) { return fmt::format("{:.2f}%", 100 * a); }

}  // namespace

int cmd_prune(const Args& args) {
  CommandLine cl(
      "prune",
      "Prunes the channels whose RReLU slope has |b| < gamma (--by slope), whose batch-norm scale has\n"
      "|gamma_BN| < gamma (--by bn-scale, also for ReLU networks) or with |gamma_BN * b| < gamma (--by product).\nWithout --gamma, gamma is the largest\n"
      "threshold that keeps the accuracy within --tolerance of the unpruned network's on the images of\n"
      "--gamma-from, and the accuracies are reported on images that played no part in the choice.",
      {
          {"model-file", "FILE", "a trained model file (RReLU; ReLU with --by bn-scale)", ""},
          {"by", "slope|bn-scale|product", "what a channel is scored by (models/prune.h)", "slope"},
          {"data", "SPEC", "the data set (as for rotor train)",
           "the model's training data, recorded in "
           "its file; else fashion-mnist"},
          {"gamma", "X", "use this threshold instead of choosing one (the report uses the whole test set)", ""},
          {"gamma-from", "val|test-half",
           "choose gamma on the run's validation split (rotor train --val-split) and report on the whole "
           "test set, or on a stratified half of the test set and report on the other half",
           "val when the model's run held one out, else test-half"},
          {"split-seed", "N", "seed of the test-half draw", "1"},
          {"tolerance", "X", "accuracy the choice may lose on the choosing images (0.002 = 0.2 points)", "0"},
          {"out", "DIR", "where prune.json and pruned.rotor go", "<model file's folder>/prune"},
          {"force", "", "replace an earlier prune.json and pruned.rotor in --out", ""},
          {"batch", "N", "evaluation batch size", "1000"},
          device_flag(),
          threads_flag(),
          precision_flag(),
      });
  if (!parse_or_help(cl, args)) return 0;
  const std::string path = cl.required("model-file");
  const bool given = cl.has("gamma");
  ROTOR_USAGE_CHECK(!given || !cl.has("gamma-from"),
                    "--gamma and --gamma-from exclude each other (a given gamma "
                    "is not chosen on any images)");
  ROTOR_USAGE_CHECK(!given || !cl.has("tolerance"), "--tolerance applies to choosing gamma, not to a given --gamma");
  ROTOR_USAGE_CHECK(!given || !cl.has("split-seed"),
                    "--split-seed applies to choosing gamma on a test half, not "
                    "to a given --gamma");
  const std::string gamma_from_flag = cl.text("gamma-from");
  ROTOR_USAGE_CHECK(gamma_from_flag.empty() || gamma_from_flag == "val" || gamma_from_flag == "test-half",
                    "--gamma-from: expected val or test-half, got '{}'", gamma_from_flag);
  ROTOR_USAGE_CHECK(gamma_from_flag != "val" || !cl.has("split-seed"),
                    "--split-seed applies to --gamma-from test-half; the validation split is the training run's");
  const double tolerance = cl.number("tolerance", 0, 0, 1);
  const double given_gamma = cl.number("gamma", 0, 0, 1e30);
  const uint64_t split_seed = static_cast<uint64_t>(cl.integer("split-seed", 1, 0, INT64_MAX));
  const int64_t batch = cl.integer("batch", 1000, 1, 1 << 20);
  const std::string out = cl.text("out", (fs::path(path).parent_path() / "prune").string());
  const bool force = cl.on("force");
  const PruneBy by = parse_prune_by(cl.text("by", "slope"));
  check_output_dir(out, force);
  Context ctx(context_options(cl));

  const TensorFile file = read_tensor_file(path);
  const ModelSpec spec = read_model_spec(file, path);
  std::unique_ptr<Model> model = build_model(ctx, spec);
  load_module_state(ctx, *model, file, path);
  ROTOR_CHECK(by == PruneBy::bn_scale || !model->named_slopes().empty(),
              "{} has no RReLU slopes ({}): nothing to prune by --by {} (--by bn-scale prunes by the batch-norm "
              "scales)",
              path, spec.describe(), prune_by_name(by));
  Provenance prov = read_provenance(file.header, path);
  std::vector<std::vector<float>> original;
  for (auto& [name, p] : model->named_parameters()) original.push_back(host_values(ctx, p->value()));
  const std::vector<double> magnitudes = prune_scores(ctx, *model, by);  // ascending
  const char* scored = by == PruneBy::slope ? "slope" : "channel score";
  ROTOR_CHECK(!magnitudes.empty(), "{}: nothing to prune by {}", path, prune_by_name(by));
  const char* score = by == PruneBy::slope ? "|b|" : by == PruneBy::bn_scale ? "|gamma_BN|" : "|gamma_BN * b|";
  ROTOR_CHECK(!given || given_gamma <= magnitudes.back(),
              "--gamma {} would prune every {} of {} (the largest {} is {:.6g}), leaving no network; give a "
              "gamma of at most {:.6g}",
              cl.text("gamma"), scored, path, score, magnitudes.back(), magnitudes.back());

  PruneSets sets;
  sets.gamma_from = given                      ? "given"
                    : !gamma_from_flag.empty() ? gamma_from_flag
                    : prov.val.enabled()       ? "val"
                                               : "test-half";
  ROTOR_CHECK(sets.gamma_from != "val" || prov.val.enabled(),
              "--gamma-from val: {} records no validation split (it was not trained with rotor train --val-split{}); "
              "use --gamma-from test-half",
              path, prov.data.empty() ? ", or its file records no training run" : "");
  const DataSplit data = load_data(cl.text("data", prov.data.empty() ? "fashion-mnist" : prov.data), ctx.pool().size());
  check_data_fits(spec, data, path);
  if (sets.gamma_from == "val") {
    sets.seed = prov.val.seed;
    sets.choose = hold_out_validation(data, prov.val).validation;
    sets.report = data.test;
    sets.choose_what = fmt::format("the run's validation split ({:g} of the training images, seed {})",
                                   prov.val.fraction, prov.val.seed);
    sets.report_what = "the test set";
  } else if (sets.gamma_from == "test-half") {
    ROTOR_CHECK(data.test.size() >= 2, "{}: too few test images to split", data.name);
    sets.seed = split_seed;
    const IndexSplit halves = stratified_split(data.test.labels, data.classes, 0.5, split_seed);
    sets.choose = subset(data.test, halves.first);
    sets.report = subset(data.test, halves.second);
    sets.choose_what = fmt::format("half of the test set (stratified, seed {})", split_seed);
    sets.report_what = "the other half of the test set";
  } else {
    sets.report = data.test;
    sets.report_what = "the test set";
  }
  const DeviceDataset choose(ctx, sets.choose), report(ctx, sets.report);

  // Progress over the whole run: images evaluated, out of an upper bound
  // (the gamma search's most trials, then three passes over the report).
  ProgressBar bar;
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t max_trials = given ? 0 : max_gamma_trials(magnitudes);
  int64_t done = 0, planned = max_trials * choose.size + 3 * report.size;
  std::string label, info;
  auto progress = [&](int64_t base) {
    return [&, base](int64_t images) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      bar.show({label, static_cast<double>(base + images) / static_cast<double>(planned), s, info});
    };
  };
  auto run_eval = [&](Model& m, const DeviceDataset& d, const std::string& what) {
    label = what;
    ClassAccuracy a = evaluate_by_class(ctx, m, d, batch, progress(done));
    done += d.size;
    return a;
  };

  GammaChoice choice;
  ClassAccuracy choose_before;
  if (given) {
    choice.gamma = given_gamma;
  } else {
    fmt::print("choosing gamma on {} images: {}; reporting on {} images: {}\n", choose.size, sets.choose_what,
               report.size, sets.report_what);
    std::fflush(stdout);
    choose_before = run_eval(*model, choose, fmt::format("choosing gamma: trial 1 of <={}", max_trials));
    int64_t trial = 0;
    choice = choose_gamma(
        magnitudes,
        [&](double gamma) {
          ++trial;
          if (gamma <= magnitudes.front()) return choose_before.accuracy();  // prunes nothing: known
          apply_mask(ctx, *model, original, gamma, by);
          const double acc =
              run_eval(*model, choose, fmt::format("choosing gamma: trial {} of <={}", trial, max_trials)).accuracy();
          info = fmt::format("gamma {:.4g}: {}", gamma, percent(acc));
          return acc;
        },
        tolerance);
    planned = done + 3 * report.size;
  }
  const double gamma = choice.gamma;
  info = fmt::format("gamma {:.4g}", gamma);
  int64_t pruned_slopes = 0;
  for (double m : magnitudes) pruned_slopes += m < gamma;

  // Accuracies on the report images: unpruned, masked, physically pruned.
  apply_mask(ctx, *model, original, 0.0, by);
  const std::vector<LayerCost> before = model->layer_costs();
  const ClassAccuracy acc_before = run_eval(*model, report, "reporting: unpruned");
  std::unique_ptr<Model> pruned = prune_model(ctx, *model, gamma, by);
  mask_channels(ctx, *model, gamma, by);
  const ClassAccuracy acc_masked = run_eval(*model, report, "reporting: masked");
  const ClassAccuracy acc_pruned = run_eval(*pruned, report, "reporting: pruned");
  bar.clear();
  const std::vector<LayerCost> after = pruned->layer_costs();
  const CostTotals tb = totals(before), ta = totals(after);

  Json j = Json::object();
  j.set("model_file", path);
  j.set("data", data.name);
  j.set("data_source", data.source);
  j.set("gamma", gamma);
  j.set("gamma_chosen", !given);
  j.set("gamma_from", sets.gamma_from);
  if (!given) {
    j.set("split_seed", static_cast<int64_t>(sets.seed));
    j.set("tolerance", tolerance);
  }
  j.set("choose_images", choose.size);
  j.set("report_images", report.size);
  j.set("by", prune_by_name(by));
  j.set("scores_total", static_cast<int64_t>(magnitudes.size()));
  j.set("scores_pruned", pruned_slopes);
  if (by == PruneBy::slope) {
    j.set("slopes_total", static_cast<int64_t>(magnitudes.size()));
    j.set("slopes_pruned", pruned_slopes);
  }
  j.set("params_before", tb.params);
  j.set("params_after", ta.params);
  j.set("flops_before", tb.flops);
  j.set("flops_after", ta.flops);
  j.set("acc_before", acc_before.accuracy());
  j.set("acc_masked", acc_masked.accuracy());
  j.set("acc_pruned", acc_pruned.accuracy());
  // Both sets of images: what they are, their class mix, and the unpruned
  // network's accuracy on each (a large gap says they are not alike).
  if (!given) {
    Json c = Json::object();
    c.set("what", sets.choose_what);
    c.set("images", choose.size);
    c.set("class_counts", class_counts_json(sets.choose, data.classes));
    c.set("acc_unpruned", choose_before.accuracy());
    c.set("acc_at_gamma", choice.accuracy);
    c.set("per_class_unpruned", class_accuracy_json(choose_before, data.class_names));
    j.set("choose", c);
  }
  Json r = Json::object();
  r.set("what", sets.report_what);
  r.set("images", report.size);
  r.set("class_counts", class_counts_json(sets.report, data.classes));
  r.set("acc_unpruned", acc_before.accuracy());
  r.set("acc_pruned", acc_pruned.accuracy());
  r.set("per_class_unpruned", class_accuracy_json(acc_before, data.class_names));
  r.set("per_class_pruned", class_accuracy_json(acc_pruned, data.class_names));
  j.set("report", r);
  if (!given) {
    j.set("acc_choose_before", choice.base_accuracy);
    j.set("acc_choose_at_gamma", choice.accuracy);
    Json trials = Json::array();
    for (const GammaTrial& t : choice.trials) {
      Json tj = Json::object();
      tj.set("gamma", t.gamma);
      tj.set("pruned", t.pruned);
      tj.set("acc", t.accuracy);
      trials.push(tj);
    }
    j.set("trials", trials);
  }
  j.set("layers", filter_json(before, after));
  const std::string pruned_path = (fs::path(out) / "pruned.rotor").string();
  j.set("pruned_model", pruned_path);

  // Only now, with everything computed, does the output folder appear.
  std::error_code ec;
  fs::create_directories(out, ec);
  ROTOR_CHECK(!ec && fs::is_directory(out), "cannot create the output folder {}: {}", out,
              ec ? ec.message() : "it exists and is not a folder");
  Json provenance = Json::object();
  provenance.set("pruned_from", path);
  provenance.set("gamma", gamma);
  provenance.set("prune_by", prune_by_name(by));
  // The weights are the trained run's: keep its record, so the pruned file
  // still names its data and validation split (prune it again, evaluate it).
  if (const Json* trained = file.header.find("trained")) provenance.set("trained", *trained);
  if (const Json* epochs = file.header.find("epochs_done")) provenance.set("epochs_done", *epochs);
  save_model_file(ctx, pruned_path, *pruned, provenance);
  write_json_file((fs::path(out) / "prune.json").string(), j);

  fmt::print("{}\n\n{}\n", spec.describe(), filter_table(before, after));
  fmt::print("gamma {:.6g} ({}): {} of {} {}s pruned ({:.1f}%)\n", gamma,
             given ? "given" : fmt::format("chosen on {} images, tolerance {:g}", choose.size, tolerance),
             pruned_slopes, magnitudes.size(), scored, 100.0 * pruned_slopes / magnitudes.size());
  fmt::print("params {} -> {} ({:.1f}%),  FLOPs {} -> {} ({:.1f}%)\n", with_commas(tb.params), with_commas(ta.params),
             100.0 * ta.params / tb.params, mega(tb.flops), mega(ta.flops), 100.0 * ta.flops / tb.flops);
  if (!given)
    fmt::print("unpruned accuracy: {} on the {} choosing images, {} on the {} reporting images\n",
               percent(choose_before.accuracy()), choose.size, percent(acc_before.accuracy()), report.size);
  fmt::print("accuracy on {} ({} images): unpruned {}  masked {}  pruned {}\n", sets.report_what, report.size,
             percent(acc_before.accuracy()), percent(acc_masked.accuracy()), percent(acc_pruned.accuracy()));
  fmt::print("wrote {} and {}\n", pruned_path, (fs::path(out) / "prune.json").string());
  return 0;
}

}  // namespace rotor
