// rotor prune: choose gamma on one half of the test set, build the
// physically smaller network, report on the other half, and write
// DIR/prune.json and DIR/pruned.rotor.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/cost_report.h"
#include "apps/gamma_search.h"
#include "apps/run_files.h"
#include "apps/trainer.h"
#include "data/registry.h"
#include "engine/context.h"
#include "engine/tensor_util.h"
#include "models/model_file.h"
#include "models/prune.h"

namespace rotor {
namespace {

// Sets the model's slopes back to `original`, then zeroes those under gamma.
void apply_mask(Context& ctx, Model& model, const std::vector<std::vector<float>>& original, double gamma) {
  auto slopes = model.named_slopes();
  for (size_t i = 0; i < slopes.size(); ++i)
    copy(ctx, from_host(ctx, slopes[i].second->value().shape(), original[i]), slopes[i].second->value());
  mask_slopes(ctx, model, gamma);
}

}  // namespace

int cmd_prune(const Args& args) {
  CommandLine cl("prune",
                 "Prunes the channels whose RReLU slope has |b| < gamma. Without --gamma, gamma is chosen on the\n"
                 "first half of the test set (the largest threshold that keeps the accuracy within --tolerance of\n"
                 "the unpruned network's); accuracies are reported on the second half.",
                 {
                     {"model-file", "FILE", "a trained RReLU model file", ""},
                     {"data", "SPEC", "the data set whose test images choose gamma and report", "fashion-mnist"},
                     {"gamma", "X", "use this threshold instead of choosing one", ""},
                     {"tolerance", "X", "accuracy the choice may lose on the choosing half (0.002 = 0.2 points)", "0"},
                     {"out", "DIR", "where prune.json and pruned.rotor go", "<model file's folder>/prune"},
                     {"batch", "N", "evaluation batch size", "1000"},
                     device_flag(),
                     threads_flag(),
                 });
  if (!parse_or_help(cl, args)) return 0;
  ROTOR_CHECK(cl.has("model-file"), "--model-file is required");
  const std::string path = cl.text("model-file");
  const double tolerance = cl.number("tolerance", 0, 0, 1);
  const int64_t batch = cl.integer("batch", 1000, 1, 1 << 20);
  const std::string out = cl.text("out", (std::filesystem::path(path).parent_path() / "prune").string());
  Context ctx(context_options(cl));

  std::unique_ptr<Model> model = load_model_file(ctx, path);
  const ModelSpec& spec = model->spec();
  ROTOR_CHECK(!model->named_slopes().empty(), "{} has no RReLU slopes ({}): nothing to prune by", path,
              spec.describe());
  const DataSplit data = load_data(cl.text("data", "fashion-mnist"), ctx.pool().size());
  check_data_fits(spec, data, path);
  ROTOR_CHECK(data.test.size() >= 2, "{}: too few test images to split", data.name);
  const int64_t half = data.test.size() / 2;
  const DeviceDataset choose(ctx, data.test.slice(0, half)), report(ctx, data.test.slice(half, data.test.size()));
  std::filesystem::create_directories(out);

  std::vector<std::vector<float>> original;
  for (auto& [name, p] : model->named_slopes()) original.push_back(host_values(ctx, p->value()));
  const std::vector<double> magnitudes = slope_magnitudes(ctx, *model);

  GammaChoice choice;
  if (cl.has("gamma")) {
    choice.gamma = cl.number("gamma", 0, 0, 1e30);
  } else {
    fmt::print("choosing gamma on {} test images ...\n", choose.size);
    std::fflush(stdout);
    choice = choose_gamma(
        magnitudes,
        [&](double gamma) {
          apply_mask(ctx, *model, original, gamma);
          return evaluate(ctx, *model, choose, batch).accuracy;
        },
        tolerance);
  }
  const double gamma = choice.gamma;
  int64_t pruned_slopes = 0;
  for (double m : magnitudes) pruned_slopes += m < gamma;

  // Accuracies on the reporting half: unpruned, masked, physically pruned.
  apply_mask(ctx, *model, original, 0.0);
  const std::vector<LayerCost> before = model->layer_costs();
  const EvalResult acc_before = evaluate(ctx, *model, report, batch);
  std::unique_ptr<Model> pruned = prune_model(ctx, *model, gamma);
  mask_slopes(ctx, *model, gamma);
  const EvalResult acc_masked = evaluate(ctx, *model, report, batch);
  const EvalResult acc_pruned = evaluate(ctx, *pruned, report, batch);
  const std::vector<LayerCost> after = pruned->layer_costs();
  const CostTotals tb = totals(before), ta = totals(after);

  Json provenance = Json::object();
  provenance.set("pruned_from", path);
  provenance.set("gamma", gamma);
  const std::string pruned_path = out + "/pruned.rotor";
  save_model_file(ctx, pruned_path, *pruned, provenance);

  Json j = Json::object();
  j.set("model_file", path);
  j.set("data", data.name);
  j.set("gamma", gamma);
  j.set("gamma_chosen", !cl.has("gamma"));
  j.set("tolerance", tolerance);
  j.set("choose_images", choose.size);
  j.set("report_images", report.size);
  j.set("slopes_total", static_cast<int64_t>(magnitudes.size()));
  j.set("slopes_pruned", pruned_slopes);
  j.set("params_before", tb.params);
  j.set("params_after", ta.params);
  j.set("flops_before", tb.flops);
  j.set("flops_after", ta.flops);
  j.set("acc_before", acc_before.accuracy);
  j.set("acc_masked", acc_masked.accuracy);
  j.set("acc_pruned", acc_pruned.accuracy);
  if (!cl.has("gamma")) {
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
  j.set("pruned_model", pruned_path);
  write_json_file(out + "/prune.json", j);

  fmt::print("{}\n\n{}\n", spec.describe(), filter_table(before, after));
  fmt::print("gamma {:.6g} ({}): {} of {} slopes pruned ({:.1f}%)\n", gamma,
             cl.has("gamma") ? "given" : fmt::format("chosen on {} images, tolerance {:g}", choose.size, tolerance),
             pruned_slopes, magnitudes.size(), 100.0 * pruned_slopes / magnitudes.size());
  fmt::print("params {} -> {} ({:.1f}%),  FLOPs {} -> {} ({:.1f}%)\n", with_commas(tb.params), with_commas(ta.params),
             100.0 * ta.params / tb.params, mega(tb.flops), mega(ta.flops), 100.0 * ta.flops / tb.flops);
  fmt::print("accuracy on the other {} test images: unpruned {:.2f}%  masked {:.2f}%  pruned {:.2f}%\n", report.size,
             100 * acc_before.accuracy, 100 * acc_masked.accuracy, 100 * acc_pruned.accuracy);
  fmt::print("wrote {} and {}/prune.json\n", pruned_path, out);
  return 0;
}

}  // namespace rotor
