// rotor export: a model file (original or pruned) as an ONNX file for
// inference elsewhere (models/onnx_export.h says what the graph holds).
#include <fmt/format.h>

#include <filesystem>

#include "apps/cli.h"
#include "apps/commands.h"
#include "engine/context.h"
#include "models/model_file.h"
#include "models/onnx_export.h"

namespace rotor {

int cmd_export(const Args& args) {
  CommandLine cl("export",
                 "Writes a model file as an ONNX graph of the evaluation-mode network: input \"image\" (N, C, H, W)\n"
                 "float32 pixels / 255, the model's own input normalisation inside, output \"logits\" (N, classes).",
                 {
                     {"model-file", "FILE", "a model file written by rotor train or rotor prune", ""},
                     {"format", "onnx", "the output format", "onnx"},
                     {"out", "FILE", "the file to write", "<model file with .onnx>"},
                     {"force", "", "replace an existing output file", ""},
                 });
  if (!parse_or_help(cl, args)) return 0;
  cl.required("model-file");
  const std::string format = cl.text("format", "onnx");
  ROTOR_USAGE_CHECK(format == "onnx", "--format {}: the only export format is onnx", format);
  const std::string path = cl.text("model-file");
  const std::string out = cl.text("out", std::filesystem::path(path).replace_extension(".onnx").string());
  ROTOR_CHECK(cl.on("force") || !std::filesystem::exists(out), "{} exists (give --force to replace it)", out);
  Context ctx(ContextOptions{});  // exporting copies tensors only: the CPU does it
  std::unique_ptr<Model> model = load_model_file(ctx, path);
  write_onnx_file(ctx, *model, out, cl.on("force"));
  fmt::print("{}: {} written as ONNX (opset {}, input \"{}\" pixels / 255, output \"{}\")\n", out,
             model->spec().describe(), onnx_opset, onnx_input_name, onnx_output_name);
  return 0;
}

}  // namespace rotor
