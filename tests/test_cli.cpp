// The rotor binary: bad flags and values exit non-zero with one clear line.
#include <catch2/catch.hpp>

#include <filesystem>

#include "engine/context.h"
#include "apps/run_files.h"
#include "tests/support/test_files.h"

using namespace rotor::test;

namespace {

void expect_error(const std::string& args, const std::string& message) {
  INFO("rotor " << args);
  const CommandResult r = run_rotor(args);
  INFO(r.output);
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Catch::Contains(message));
  // One clear line, not a stack of messages.
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') <= 2);
}

}  // namespace

TEST_CASE("the CLI rejects bad flags and values with one clear line", "[cli]") {
  expect_error("train --bogus 3", "unknown flag --bogus");
  expect_error("train --epochs abc", "--epochs expects an integer, got 'abc'");
  expect_error("train --epochs 0", "--epochs must be between 1 and");
  expect_error("train --lr fast", "--lr expects a number");
  expect_error("train --epochs", "--epochs needs a value");
  expect_error("train --epochs 3 --epochs 4", "--epochs is given twice");
  expect_error("train stray", "unexpected argument 'stray'");
  expect_error("train --model resnet21", "the depth of a CIFAR ResNet is 6n+2");
  expect_error("train --model vgg16", "unknown model 'vgg16'");
  expect_error("train --act tanh", "unknown activation 'tanh'");
  expect_error("train --opt rmsprop", "unknown optimizer 'rmsprop'");
  expect_error("train --schedule linear", "unknown schedule 'linear'");
  expect_error("train --device tpu", "unknown device 'tpu'");
  expect_error("train --nesterov --opt adam", "--nesterov applies to --opt sgd only");
  const std::string out = temp_dir("cli") + "/run";
  expect_error("train --data mnist:/nonexistent/dir --out " + out, "no train-images-idx3-ubyte in /nonexistent/dir");
  CHECK_FALSE(std::filesystem::exists(out + "/model.rotor"));
  expect_error("eval", "--model-file is required");
  expect_error("eval --model-file /nonexistent.rotor --device cpu", "cannot open /nonexistent.rotor");
  // An unknown device word is a usage error (2), like any bad flag value;
  // "cuda" without a GPU is not (the next test).
  for (const char* cmd : {"train --device tpu", "eval --model-file x.rotor --device tpu",
                          "prune --model-file x.rotor --device tpu", "export", "export --model-file x.rotor --format tf",
                          "report", "info", "info --model fcnn --model-file x.rotor"})
    CHECK(run_rotor(cmd).exit_code == 2);
  const CommandResult unknown = run_rotor("frobnicate");
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.output, Catch::Contains("unknown command 'frobnicate'"));
}

TEST_CASE("the --precision flag takes fp32, tf32 or fp16, anything else is a usage error naming the flag", "[cli]") {
  // train's data path is missing, so that no command trains or evaluates.
  const std::string dir = temp_dir("cli-precision");
  for (const std::string& cmd :
       {"train --data fashion-mnist:" + dir + "/no-data --out " + dir + "/run", std::string("eval --model-file x.rotor"),
        std::string("prune --model-file x.rotor --out ") + temp_dir("cli-precision-prune")}) {
    INFO(cmd);
    for (const char* bad : {"bf16", "FP16", "half"}) {
      const CommandResult r = run_rotor(cmd + " --precision '" + bad + "' --device cpu");
      INFO(r.output);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.output, Catch::Contains(std::string("--precision: expected fp32, tf32 or fp16, got '") + bad + "'"));
    }
    // fp16 is accepted (the command then fails on its missing inputs, not on the flag).
    const CommandResult ok = run_rotor(cmd + " --precision fp16 --device cpu");
    INFO(ok.output);
    CHECK_THAT(ok.output, !Catch::Contains("--precision"));
  }
  CHECK(rotor::parse_precision("fp16") == rotor::Precision::fp16);
  CHECK(std::string(rotor::precision_name(rotor::Precision::fp16)) == "fp16");
  CHECK_THROWS_WITH(rotor::parse_precision("bf16"), Catch::Contains("expected fp32, tf32 or fp16"));
}

TEST_CASE("asking for CUDA without a usable GPU is a clear error, not a crash", "[cli]") {
  if (rotor::cuda_device_count() > 0) {
    SUCCEED("a GPU is present: --device cuda is valid here");
    return;
  }
  const CommandResult r = run_rotor("train --device cuda --epochs 1 --out " + temp_dir("cli-cuda"));
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  // The line says why: no backend in this build, or what the runtime found.
  CHECK_THAT(r.output, Catch::Contains("--device cuda: " + rotor::cuda_unavailable_reason()));
}

TEST_CASE("help texts exit 0 and list the flags", "[cli]") {
  const CommandResult r = run_rotor("train --help");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("--slope-wd") && Catch::Contains("--schedule"));
  CHECK(run_rotor("--help").exit_code == 0);
  CHECK(run_rotor("").exit_code == 2);
}

TEST_CASE("the --cuda-graph flag: on needs CUDA, the value is checked, and run.json records it", "[cli][graph]") {
  auto expect_usage = [](const std::string& args, const std::string& message) {
    INFO("rotor " << args);
    const CommandResult r = run_rotor(args);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains(message));
  };
  expect_usage("train --cuda-graph on --device cpu", "--cuda-graph on needs --device cuda, not cpu");
  expect_usage("train --cuda-graph sometimes", "--cuda-graph: expected on, off or auto, got 'sometimes'");
  const std::string run = temp_dir("cli-graph") + "/run";
  rotor_ok("train --model fcnn-16 --data mnist:" + fashion_subset_dir(800, 200) +
           " --epochs 2 --stop-after 1 --device cpu --out " + run);
  CHECK(rotor::read_json_file(run + "/run.json").at("cuda_graph").as_string() == "auto");
  // A resumed run may change it, as it may change --device; on a CPU still not on.
  expect_usage("train --resume " + run + " --device cpu --cuda-graph on", "--cuda-graph on needs --device cuda");
}
