// rotor info: parameters and FLOPs per layer and in total, by the paper's
// formulas, for a model by name or a model file (pruned ones included).
#include <fmt/format.h>

#include <cstdio>
#include <sstream>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/cost_report.h"
#include "engine/context.h"
#include "models/model_file.h"

namespace rotor {

static void parse_input(const std::string& text, ModelSpec& spec) {
  int64_t c = 0, h = 0, w = 0;
  char x1 = 0, x2 = 0;
  std::istringstream in(text);
  ROTOR_CHECK((in >> c >> x1 >> h >> x2 >> w) && x1 == 'x' && x2 == 'x' && in.peek() == EOF && c > 0 && h > 0 && w > 0,
              "--input: expected CxHxW (e.g. 3x32x32), got '{}'", text);
  spec.in_channels = c;
  spec.height = h;
  spec.width = w;
}

int cmd_info(const Args& args) {
  CommandLine cl("info", "Prints parameters and FLOPs per layer and in total (paper's formulas).",
                 {
                     {"model", "NAME", "an architecture name (resnet20, wrn-16-4, fcnn, ...)", ""},
                     {"model-file", "FILE", "a model file (its own architecture and input size)", ""},
                     {"input", "CxHxW", "input size for --model", "3x32x32; 1x28x28 for fcnn"},
                     {"classes", "N", "classes for --model", "10"},
                     {"act", activation_choices(), "activation for --model", "rrelu"},
                 });
  if (!parse_or_help(cl, args)) return 0;
  ROTOR_USAGE_CHECK(cl.has("model") != cl.has("model-file"), "give exactly one of --model and --model-file");
  Context ctx;
  std::unique_ptr<Model> model;
  if (cl.has("model-file")) {
    model = load_model_file(ctx, cl.text("model-file"));
  } else {
    ModelSpec spec;
    spec.arch = cl.text("model");
    check_arch(spec.arch);
    spec.act = parse_activation(cl.text("act", "rrelu"));
    parse_input(cl.text("input", spec.arch.rfind("fcnn", 0) == 0 ? "1x28x28" : "3x32x32"), spec);
    spec.classes = cl.integer("classes", 10, 2, 1 << 20);
    model = build_model(ctx, spec);
  }
  fmt::print("{}\n\n{}", model->spec().describe(), cost_table(model->layer_costs()));
  return 0;
}

}  // namespace rotor
