// rotor eval as a user runs it: the overall line, one line per class, and
// --json with the same numbers; a missing --model-file is a usage error.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "engine/json.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

TEST_CASE("rotor eval prints per-class accuracy and --json the same numbers", "[eval][cli]") {
  const std::string data = "mnist:" + fashion_subset_dir(2000, 500);
  const std::string run = temp_dir("eval-cli");
  rotor_ok("train --model fcnn-16 --epochs 1 --device cpu --threads 1 --data " + data + " --out " + run);
  const std::string eval = "eval --model-file " + run + "/model.rotor --device cpu --threads 1 --data " + data;

  const CommandResult text = rotor_ok(eval);
  CHECK_THAT(text.output, Catch::Contains("on 500 test images: accuracy"));
  const CommandResult js = rotor_ok(eval + " --json");
  const Json j = Json::parse(js.output);
  CHECK(j.at("images").as_int() == 500);
  const Json::Array& classes = j.at("classes").as_array();
  REQUIRE(classes.size() == 10);
  int64_t images = 0;
  double correct = 0;
  for (const Json& c : classes) {
    images += c.at("images").as_int();
    correct += c.at("acc").as_number() * static_cast<double>(c.at("images").as_int());
    // Every class has its own line in the text output.
    CHECK_THAT(text.output, Catch::Contains(fmt::format("{} images", c.at("images").as_int())));
  }
  CHECK(images == 500);
  // The per-class accuracies add up to the overall one, which the text prints too.
  CHECK(correct / 500.0 == Approx(j.at("acc").as_number()).margin(1e-9));
  CHECK_THAT(text.output, Catch::Contains(fmt::format("accuracy {:.2f}%", 100 * j.at("acc").as_number())));
  CHECK(std::isfinite(j.at("loss").as_number()));

  const CommandResult missing = run_rotor("eval --device cpu");
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.output, Catch::Contains("--model-file is required"));
}
