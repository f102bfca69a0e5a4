// rotor eval: accuracy and loss of a model file on a data set's test images.
#include <fmt/format.h>

#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/trainer.h"
#include "data/registry.h"
#include "engine/context.h"
#include "models/model_file.h"

namespace rotor {

int cmd_eval(const Args& args) {
  CommandLine cl("eval", "Evaluates a model file on the test images of a data set.",
                 {
                     {"model-file", "FILE", "a model file written by rotor train or rotor prune", ""},
                     {"data", "SPEC", "a data set as for rotor train (its test images are used)", "fashion-mnist"},
                     {"batch", "N", "evaluation batch size", "1000"},
                     device_flag(),
                     threads_flag(),
                 });
  if (!parse_or_help(cl, args)) return 0;
  ROTOR_CHECK(cl.has("model-file"), "--model-file is required");
  const std::string path = cl.text("model-file");
  const int64_t batch = cl.integer("batch", 1000, 1, 1 << 20);
  Context ctx(context_options(cl));
  std::unique_ptr<Model> model = load_model_file(ctx, path);
  const DataSplit data = load_data(cl.text("data", "fashion-mnist"), ctx.pool().size());
  check_data_fits(model->spec(), data, path);
  const DeviceDataset test(ctx, data.test);
  const EvalResult r = evaluate(ctx, *model, test, batch);
  fmt::print("{}: {} on {} test images: accuracy {:.2f}%  loss {:.4f}\n", path, model->spec().describe(), r.count,
             100 * r.accuracy, r.loss);
  return 0;
}

}  // namespace rotor
