// The method as a user runs it: the paper's recipes as presets of rotor
// train, --version and the provenance in run.json, smoke-run limits, and
// usage errors that exit 2.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/cli.h"
#include "apps/recipes.h"
#include "apps/run_files.h"
#include "apps/version.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

std::string small_data() { return fashion_subset_dir(400, 200); }

// The value that follows `flag` in args ("" when absent), and how often the flag occurs.
std::string value_of(const std::vector<std::string>& args, const std::string& flag) {
  const auto it = std::find(args.begin(), args.end(), flag);
  return it == args.end() || it + 1 == args.end() ? "" : *(it + 1);
}
long count_of(const std::vector<std::string>& args, const std::string& flag) {
  return std::count(args.begin(), args.end(), flag);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("a recipe adds its flags and the user's flags override them", "[recipes]") {
  const Recipe& fcnn = find_recipe("fcnn");
  std::vector<std::string> args = with_recipe({"--data", "mnist:D"}, fcnn);
  CHECK(value_of(args, "--opt") == "adam");
  CHECK(value_of(args, "--epochs") == "300");
  CHECK(value_of(args, "--model") == "fcnn");
  CHECK(value_of(args, "--data") == "mnist:D");
  args = with_recipe({"--epochs", "3", "--lr=0.01"}, fcnn);
  CHECK(count_of(args, "--epochs") == 1);
  CHECK(value_of(args, "--epochs") == "3");
  CHECK(count_of(args, "--lr") == 0);  // given as --lr=0.01
  CHECK(value_of(with_recipe({}, find_recipe("type1")), "--epochs") == "1200");
  CHECK(value_of(with_recipe({}, find_recipe("relu-baseline")), "--act") == "relu");
  CHECK(value_of(with_recipe({}, find_recipe("coarse-step1")), "--train") == "slopes");
  // type2 and coarse-step2 start from a file the user names.
  CHECK_THROWS_AS(with_recipe({"--init", "type1"}, find_recipe("type2")), UsageError);
  CHECK_NOTHROW(with_recipe({"--init", "type2:relu/model.rotor"}, find_recipe("type2")));
  CHECK_THROWS_AS(with_recipe({}, find_recipe("coarse-step2")), UsageError);
  CHECK_THROWS_AS(find_recipe("resnet"), UsageError);
}

TEST_CASE("rotor train --recipe list prints every recipe's flags", "[recipes][cli]") {
  const CommandResult r = run_rotor("train --recipe list");
  CHECK(r.exit_code == 0);
  for (const Recipe& recipe : recipes()) CHECK_THAT(r.output, Catch::Contains(recipe.name));
  CHECK_THAT(r.output, Catch::Contains("--opt sgd --lr 0.1 --batch 128 --wd 5e-4 --schedule multistep --epochs 1200"));
  CHECK_THAT(run_rotor("train --help").output, Catch::Contains("--recipe NAME"));
  const CommandResult bad = run_rotor("train --recipe nope");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.output, Catch::Contains("unknown recipe 'nope'"));
  CHECK(run_rotor("train --recipe type2 --device cpu").exit_code == 2);
}

TEST_CASE("rotor --version prints the version and the commit", "[cli]") {
  const CommandResult r = run_rotor("--version");
  CHECK(r.exit_code == 0);
  CHECK(r.output == fmt::format("rotor {} (commit {})\n", rotor_version(), rotor_commit()));
  CHECK(std::string(rotor_commit()).size() >= 7);  // a short hash, or "unknown"
}

TEST_CASE("a recipe run records its recipe, version, commit, lr_decay and limits, and an old run.json resumes",
          "[recipes][resume]") {
  const std::string dir = temp_dir("recipe-run");
  const CommandResult r = rotor_ok("train --recipe type1 --model fcnn-8 --data mnist:" + small_data() +
                                   " --epochs 2 --stop-after 1 --lr 0.05 --train-limit 200 --test-limit 100"
                                   " --device cpu --threads 1 --out " + dir);
  CHECK_THAT(r.output, Catch::Contains("(200 train / 100 test images)"));
  CHECK_THAT(r.output, Catch::Contains("recipe type1"));
  const Json run = read_json_file(dir + "/run.json");
  CHECK(run.at("recipe").as_string() == "type1");
  CHECK(run.at("schedule").as_string() == "multistep");  // from the recipe
  CHECK(run.at("epochs").as_int() == 2);                  // given: overrides the recipe's 1200
  CHECK(run.at("lr").as_number() == 0.05);                // given: overrides 0.1
  CHECK(run.at("weight_decay").at("slopes").as_number() == 5e-4);
  CHECK(run.at("version").as_string() == rotor_version());
  CHECK(run.at("commit").as_string() == rotor_commit());
  CHECK(run.at("lr_decay").as_number() == 0.1);
  CHECK(run.find("gamma") == nullptr);
  CHECK(run.at("train_limit").as_int() == 200);
  CHECK(run.at("test_limit").as_int() == 100);
  // Slopes with the weights' decay in a 2-epoch run: the note says so.
  CHECK_THAT(r.output, Catch::Contains("few slopes will separate") && Catch::Contains("--slope-wd 1e-2"));

  // A run.json from before the rename calls the decay "gamma": it still resumes, limits kept.
  std::string text = read_text(dir + "/run.json");
  const size_t at = text.find("\"lr_decay\"");
  REQUIRE(at != std::string::npos);
  text.replace(at, 10, "\"gamma\"");
  write_text_file(dir + "/run.json", text);
  const CommandResult resumed = rotor_ok("train --resume " + dir + " --device cpu");
  CHECK_THAT(resumed.output, Catch::Contains("(200 train / 100 test images)"));
  CHECK_THAT(resumed.output, Catch::Contains("epoch   2/2"));
  const Json provenance_run = read_json_file(dir + "/run.json");
  CHECK(provenance_run.at("recipe").as_string() == "type1");
}

TEST_CASE("the slope note stays quiet when the slopes get their own decay", "[recipes]") {
  const std::string dir = temp_dir("recipe-quiet");
  const CommandResult r = rotor_ok("train --model fcnn-8 --data mnist:" + small_data() +
                                   " --epochs 1 --slope-wd 1e-2 --train-limit 100 --test-limit 50 --device cpu --out " +
                                   dir);
  CHECK_THAT(r.output, !Catch::Contains("note:"));
  CHECK_THAT(r.output, Catch::Contains("(100 train / 50 test images)"));
  const CommandResult relu = rotor_ok("train --model fcnn-8 --act relu --data mnist:" + small_data() +
                                      " --epochs 1 --train-limit 100 --test-limit 50 --device cpu --out " +
                                      temp_dir("recipe-relu"));
  CHECK_THAT(relu.output, !Catch::Contains("note:"));
}

TEST_CASE("rotor train's flag errors exit 2 and leave no output directory", "[cli]") {
  const std::string out = temp_dir("usage") + "/never";
  for (const std::string bad : {"--opt rmsprop", "--model vgg16", "--act tanh", "--schedule linear", "--augment maybe",
                                "--init type3", "--train weights", "--milestones 5,2 --schedule multistep",
                                "--nesterov --opt adam", "--train-limit 0", "--recipe type2"}) {
    const CommandResult r = run_rotor("train " + bad + " --device cpu --out " + out);
    INFO("rotor train " << bad << "\n" << r.output);
    CHECK(r.exit_code == 2);
    CHECK_FALSE(std::filesystem::exists(out));
  }
  const CommandResult too_many = run_rotor("train --model fcnn-8 --data mnist:" + small_data() +
                                           " --train-limit 401 --device cpu --out " + out);
  CHECK(too_many.exit_code == 1);
  CHECK_THAT(too_many.output, Catch::Contains("has 400 training and 200 test images"));
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("rotor method trains, prunes and reports into one folder", "[recipes][method]") {
  const std::string dir = temp_dir("method") + "/run";
  const CommandResult r = rotor_ok("method --model fcnn-8 --data mnist:" + small_data() +
                                   " --epochs 1 --opt adam --lr 2e-3 --slope-wd 0.05 --device cpu --threads 1 --out " +
                                   dir);
  CHECK_THAT(r.output, Catch::Contains("rotor method 3/3"));
  for (const char* file : {"/run.json", "/model.rotor", "/prune/prune.json", "/prune/pruned.rotor", "/report"})
    CHECK(std::filesystem::exists(dir + file));
  CHECK(run_rotor("method --model fcnn-8").exit_code == 2);  // no --out
  CHECK(run_rotor("method --help").exit_code == 0);
}

TEST_CASE("prune, report and export leave no output folder after an error", "[cli]") {
  const std::string base = temp_dir("no-empty");
  CHECK(run_rotor("prune --model-file " + base + "/missing.rotor --out " + base + "/p").exit_code == 1);
  CHECK(run_rotor("report --model-file " + base + "/missing.rotor --out " + base + "/r").exit_code == 1);
  CHECK(run_rotor("export --model-file " + base + "/missing.rotor --out " + base + "/e/x.onnx").exit_code == 1);
  for (const char* sub : {"/p", "/r", "/e"}) CHECK_FALSE(std::filesystem::exists(base + sub));
}
