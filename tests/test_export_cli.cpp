// rotor export in every build: with ONNX support it writes the file; a build
// without libonnx-dev says so in one line and writes nothing.
// (tests/onnx/ checks the graph itself, in builds with ONNX support.)
#include <catch2/catch.hpp>

#include <filesystem>

#include "engine/context.h"
#include "models/model_file.h"
#include "models/onnx_export.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

TEST_CASE("rotor export writes ONNX, or says that this build has no ONNX support", "[cli][export]") {
  Context ctx;
  ModelSpec spec;
  spec.arch = "fcnn-8";
  spec.height = spec.width = 4;
  spec.classes = 3;
  const std::string dir = temp_dir("export-cli");
  save_model_file(ctx, dir + "/m.rotor", *build_model(ctx, spec));
  const CommandResult r = run_rotor("export --model-file " + dir + "/m.rotor --out " + dir + "/m.onnx");
  INFO(r.output);
  if (onnx_compiled()) {
    CHECK(r.exit_code == 0);
    CHECK(std::filesystem::file_size(dir + "/m.onnx") > 0);
  } else {
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Catch::Contains("rotor was built without ONNX support"));
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(dir + "/m.onnx"));
  }
  const CommandResult help = run_rotor("--help");
  CHECK_THAT(help.output, Catch::Contains("export"));
}
