// A run stopped after epoch k and resumed gives the metrics and the model of
// a run that went straight through, bit for bit on the CPU.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "apps/run_files.h"
#include "data/registry.h"
#include "engine/context.h"
#include "engine/tensor_file.h"
#include "engine/tensor_util.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

// A 1,000 + 200 image subset of Fashion-MNIST as an MNIST-format directory.
std::string small_data() { return fashion_subset_dir(1000, 200); }

}  // namespace

TEST_CASE("stop after epoch 1 of 3, resume: the same metrics and weights as a straight run", "[resume]") {
  const std::string common = " --model fcnn-32 --data mnist:" + small_data() +
                             " --epochs 3 --batch 50 --opt sgd --lr 0.05 --nesterov --schedule cosine --device cpu "
                             "--threads 2 --seed 9 --out ";
  const std::string straight = temp_dir("resume-a"), stopped = temp_dir("resume-b");
  rotor_ok("train" + common + straight);
  const CommandResult first = rotor_ok("train" + common + stopped + " --stop-after 1");
  CHECK_THAT(first.output, Catch::Contains("continue with: rotor train --resume"));
  CHECK(metrics_of(stopped).size() == 1);
  rotor_ok("train --resume " + stopped);
  const auto a = metrics_of(straight), b = metrics_of(stopped);
  REQUIRE(a.size() == 3);
  CHECK(a == b);
  require_same_tensors(straight + "/model.rotor", stopped + "/model.rotor");
  require_same_tensors(straight + "/checkpoint.rotor", stopped + "/checkpoint.rotor");
}

TEST_CASE("a constant-rate run of 1 epoch resumed to 2 equals a run of 2 (Adam, dropout-free)", "[resume]") {
  const std::string common = " --model fcnn-32 --data mnist:" + small_data() +
                             " --batch 64 --opt adam --lr 2e-3 --schedule constant --device cpu --threads 2 --seed 4 --out ";
  const std::string two = temp_dir("resume-c"), one = temp_dir("resume-d");
  rotor_ok("train --epochs 2" + common + two);
  rotor_ok("train --epochs 1" + common + one);
  const CommandResult r = rotor_ok("train --resume " + one + " --epochs 2");
  CHECK_THAT(r.output, !Catch::Contains("note:"));  // constant: the length does not matter
  CHECK(metrics_of(one) == metrics_of(two));
  require_same_tensors(two + "/model.rotor", one + "/model.rotor");
  CHECK(read_json_file(one + "/run.json").at("epochs").as_int() == 2);
}

TEST_CASE("run.json records --precision, and a resume may change it and records the change", "[resume][cli]") {
  const std::string dir = temp_dir("resume-precision");
  rotor_ok("train --model fcnn-8 --data mnist:" + small_data() + " --epochs 2 --stop-after 1 --device cpu --threads 1 "
           "--precision fp32 --out " + dir);
  CHECK(read_json_file(dir + "/run.json").at("precision").as_string() == "fp32");
  CommandResult r = run_rotor("train --resume " + dir + " --precision bf16");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("--precision: expected fp32, tf32 or fp16, got 'bf16'"));
  rotor_ok("train --resume " + dir + " --precision tf32");
  CHECK(read_json_file(dir + "/run.json").at("precision").as_string() == "tf32");
  CHECK(metrics_of(dir).size() == 2);
  // fp16 is recorded too (on the CPU it computes in FP32, as tf32 does), and
  // a resume without the flag keeps it.
  rotor_ok("train --resume " + dir + " --epochs 3 --precision fp16");
  CHECK(read_json_file(dir + "/run.json").at("precision").as_string() == "fp16");
  rotor_ok("train --resume " + dir + " --epochs 4");
  CHECK(read_json_file(dir + "/run.json").at("precision").as_string() == "fp16");
  CHECK(metrics_of(dir).size() == 4);

  // A run.json from before the flag: that run computed in FP32, and so does its resume.
  const std::string old = temp_dir("resume-precision-old");
  rotor_ok("train --model fcnn-8 --data mnist:" + small_data() + " --epochs 2 --stop-after 1 --device cpu --threads 1 "
           "--out " + old);
  std::ifstream in(old + "/run.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find("\"precision\": \"tf32\",");
  REQUIRE(at != std::string::npos);
  text.erase(at, std::strlen("\"precision\": \"tf32\","));
  std::ofstream(old + "/run.json") << text;
  REQUIRE(read_json_file(old + "/run.json").find("precision") == nullptr);
  rotor_ok("train --resume " + old + " --epochs 3 --stop-after 2");
  CHECK(read_json_file(old + "/run.json").at("precision").as_string() == "fp32");
}

TEST_CASE("resuming refuses to change the run and names what is wrong", "[resume][cli]") {
  const std::string dir = temp_dir("resume-e");
  rotor_ok("train --model fcnn-16 --data mnist:" + small_data() + " --epochs 2 --stop-after 1 --device cpu --out " + dir);
  CommandResult r = run_rotor("train --resume " + dir + " --lr 0.5");
  CHECK(r.exit_code == 2);  // a usage error
  CHECK_THAT(r.output, Catch::Contains("--lr cannot be given with --resume"));
  r = run_rotor("train --resume /nonexistent/run");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("/nonexistent/run/run.json"));
  // A checkpoint of another architecture.
  const std::string other = temp_dir("resume-f");
  rotor_ok("train --model fcnn-8 --data mnist:" + small_data() + " --epochs 1 --device cpu --out " + other);
  std::filesystem::copy_file(other + "/checkpoint.rotor", dir + "/checkpoint.rotor",
                             std::filesystem::copy_options::overwrite_existing);
  r = run_rotor("train --resume " + dir);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("holds a checkpoint of fcnn-8"));
}
