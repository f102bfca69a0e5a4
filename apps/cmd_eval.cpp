// rotor eval: accuracy and loss of a model file on a data set's test images.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>

#include "apps/class_accuracy.h"
#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/trainer.h"
#include "data/registry.h"
#include "engine/context.h"
#include "models/model_file.h"

namespace rotor {
namespace {

// A model that learned CIFAR-10's classes scores garbage on SVHN's digits
// even when the image shapes and class counts agree: when both sides name
// their classes, the names must be the same, in the same order.
void check_class_names(const ModelSpec& spec, const DataSplit& data, const std::string& model_path,
                       const std::string& data_spec) {
  if (spec.class_names.empty() || data.class_names.empty() || spec.class_names == data.class_names) return;
  fail("{} was trained on the classes [{}] but --data {} has the classes [{}]; pass --ignore-class-names to "
       "evaluate it anyway",
       model_path, fmt::join(spec.class_names, ", "), data_spec, fmt::join(data.class_names, ", "));
}

}  // namespace

int cmd_eval(const Args& args) {
  CommandLine cl("eval", "Evaluates a model file on the test images of a data set.",
                 {
                     {"model-file", "FILE", "a model file written by rotor train or rotor prune", ""},
                     {"data", "SPEC", "a data set as for rotor train (its test images are used)", "fashion-mnist"},
                     {"batch", "N", "evaluation batch size", "1000"},
                     {"ignore-class-names", "", "evaluate even when the model's class names differ from the data's",
                      ""},
                     {"json", "", "print the result as one JSON object (overall and per-class accuracy, loss)", ""},
                     device_flag(),
                     threads_flag(),
                     precision_flag(),
                 });
  if (!parse_or_help(cl, args)) return 0;
  const std::string path = cl.required("model-file");
  const int64_t batch = cl.integer("batch", 1000, 1, 1 << 20);
  Context ctx(context_options(cl));
  std::unique_ptr<Model> model = load_model_file(ctx, path);
  // Only the test images: a missing or corrupt training file must not stop
  // an evaluation.
  const std::string data_spec = cl.text("data", "fashion-mnist");
  const DataSplit data = load_data(data_spec, ctx.pool().size(), DataParts::test_only);
  check_data_fits(model->spec(), data, path);
  if (!cl.on("ignore-class-names")) check_class_names(model->spec(), data, path, data_spec);
  const DeviceDataset test(ctx, data.test);
  const ClassAccuracy r = evaluate_by_class(ctx, *model, test, batch);
  if (cl.on("json")) {
    Json j = class_accuracy_json(r, data.class_names);
    j.set("loss", r.loss());
    j.set("model_file", path);
    j.set("data", data_spec);
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("{}: {} on {} test images: accuracy {:.2f}%  loss {:.4f}\n{}", path, model->spec().describe(), r.count(),
             100 * r.accuracy(), r.loss(), class_accuracy_table(r, data.class_names));
  return 0;
}

}  // namespace rotor
