// Choosing gamma, filter-path lengths, and the prune/info commands on a
// really trained model (rotor report: test_report.cpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "apps/gamma_search.h"
#include "apps/run_files.h"
#include "data/registry.h"
#include "engine/context.h"
#include "models/filter_paths.h"
#include "models/model_file.h"
#include "models/prune.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

TEST_CASE("gamma is the largest threshold that keeps the accuracy", "[gamma]") {
  const std::vector<double> mags = {0.9, 0.01, 0.2, 0.05, 0.3, 0.5, 0.3};
  // Accuracy holds until the slope of magnitude 0.3 is pruned (gamma > 0.3).
  auto acc = [](double gamma) { return gamma <= 0.3 ? 0.9 : 0.5; };
  GammaChoice c = choose_gamma(mags, acc, 0.0);
  CHECK(c.gamma == 0.3);
  CHECK(c.pruned == 3);  // 0.01, 0.05, 0.2
  CHECK(c.base_accuracy == 0.9);
  // A tolerance admits a small loss; nothing may be pruned below a floor.
  auto falling = [](double gamma) { return 0.9 - 0.1 * gamma; };
  CHECK(choose_gamma(mags, falling, 0.021).gamma == 0.2);
  CHECK(choose_gamma(mags, falling, 0.0).gamma == 0.01);  // only gamma = min prunes nothing and loses nothing
  // Non-monotone accuracy: the largest passing candidate wins (found by the coarse pass).
  auto bumpy = [](double gamma) { return gamma == 0.05 ? 0.1 : 0.9; };
  CHECK(choose_gamma(mags, bumpy, 0.0).gamma == 0.9);
  // Many slopes: bisection finds the exact breakpoint.
  std::vector<double> many;
  for (int i = 0; i < 5000; ++i) many.push_back(i * 1e-3);
  GammaChoice big = choose_gamma(many, [](double g) { return g <= 3.1415 ? 1.0 : 0.0; }, 0.0);
  CHECK(big.gamma == Approx(3.141));
  CHECK(big.trials.size() < 60);
  CHECK_THROWS_WITH(choose_gamma({}, acc, 0.0), Catch::Contains("no RReLU slopes"));
}

TEST_CASE("filter-path lengths: the convolution equals enumerating every path", "[paths]") {
  Rng rng(51);
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<BlockFilters> blocks;
    const int n = 3 + trial * 2;  // up to 11 blocks: 2048 paths
    for (int b = 0; b < n; ++b)
      blocks.push_back({static_cast<int64_t>(rng.below(40)), static_cast<int64_t>(b % 3 == 0 ? rng.below(10) : 0)});
    const std::vector<double> dist = path_length_distribution(blocks);
    std::vector<double> brute(dist.size() + 500, 0.0);
    for (uint64_t path = 0; path < (uint64_t(1) << n); ++path) {
      int64_t len = 0;
      for (int b = 0; b < n; ++b) len += (path >> b) & 1 ? blocks[b].pass : blocks[b].skip;
      brute[static_cast<size_t>(len)] += 1.0 / static_cast<double>(uint64_t(1) << n);
    }
    for (size_t l = 0; l < brute.size(); ++l) CHECK(brute[l] == Approx(l < dist.size() ? dist[l] : 0.0).margin(1e-15));
  }
}

TEST_CASE("filter paths of a real network: resnet8 and a pruned wrn", "[paths]") {
  Context ctx;
  ModelSpec s;
  s.arch = "resnet8";
  s.in_channels = 3;
  s.height = s.width = 8;
  s.classes = 4;
  auto r = build_model(ctx, s);
  const auto blocks = block_filters(*r);
  REQUIRE(blocks.size() == 3);
  CHECK(blocks[0].pass == 32);
  CHECK(blocks[2].pass == 128);
  const auto dist = path_length_distribution(blocks);
  CHECK(dist.size() == 32 + 64 + 128 + 1);
  CHECK(dist[0] == 0.125);
  CHECK(dist[224] == 0.125);
  s.arch = "wrn-10-1";
  auto w = build_model(ctx, s);
  const auto wb = block_filters(*w);
  CHECK(wb[0].skip == 0);   // 16 -> 16: identity
  CHECK(wb[1].skip == 32);  // 16 -> 32: 1x1 projection
}

namespace {

std::string small_data() { return fashion_subset_dir(3000, 1000); }


}  // namespace

TEST_CASE("rotor prune on a trained FCNN: a smaller model file with the masked network's accuracy", "[prune][cli]") {
  const std::string run = temp_dir("prune-run");
  // A strong slope decay makes many slopes small in a short run.
  rotor_ok("train --model fcnn-64 --data mnist:" + small_data() +
           " --epochs 4 --opt adam --lr 2e-3 --wd 0 --slope-wd 0.05 --device cpu --out " + run);
  const CommandResult p = rotor_ok("prune --model-file " + run + "/model.rotor --data mnist:" + small_data() +
                                   " --tolerance 0.01 --device cpu");
  CHECK_THAT(p.output, Catch::Contains("slopes pruned"));
  const Json j = read_json_file(run + "/prune/prune.json");
  for (const char* key : {"gamma", "slopes_total", "slopes_pruned", "params_before", "params_after", "flops_before",
                          "flops_after", "acc_before", "acc_masked", "acc_pruned", "layers"})
    CHECK(j.contains(key));
  CHECK(j.at("slopes_total").as_int() == 64);
  CHECK(j.at("slopes_pruned").as_int() > 0);
  CHECK(j.at("params_after").as_int() < j.at("params_before").as_int());
  CHECK(j.at("acc_pruned").as_number() == j.at("acc_masked").as_number());
  // gamma keeps the choosing half within the tolerance; the reporting half is
  // another sample, so the loss there may exceed it by its sampling error.
  const double acc = j.at("acc_before").as_number(), n = j.at("report_images").as_number();
  CHECK(j.at("acc_pruned").as_number() >= acc - 0.01 - 2 * std::sqrt(acc * (1 - acc) / n));
  CHECK(j.at("acc_choose_at_gamma").as_number() >= j.at("acc_choose_before").as_number() - 0.01);
  Context ctx;
  auto pruned = load_model_file(ctx, run + "/prune/pruned.rotor");
  CHECK(pruned->spec().arch == "fcnn-" + std::to_string(64 - j.at("slopes_pruned").as_int()));
  CHECK(std::filesystem::file_size(run + "/prune/pruned.rotor") < std::filesystem::file_size(run + "/model.rotor"));

  // The pruned model file works like any other: eval, info, and further training.
  const CommandResult e = rotor_ok("eval --model-file " + run + "/prune/pruned.rotor --data mnist:" + small_data() + " --device cpu");
  CHECK_THAT(e.output, Catch::Contains("fcnn-"));
  rotor_ok("info --model-file " + run + "/prune/pruned.rotor");
  // Step 2 of the coarse-feature method: retrain the pruned network's weights and slopes.
  const std::string retrain = temp_dir("prune-retrain");
  rotor_ok("train --init model:" + run + "/prune/pruned.rotor --data mnist:" + small_data() +
           " --epochs 1 --opt adam --lr 1e-3 --device cpu --out " + retrain);
  CHECK(load_model_file(ctx, retrain + "/model.rotor")->spec().arch == pruned->spec().arch);

  const CommandResult relu = run_rotor("prune --model-file " + temp_dir("nope") + "/x.rotor");
  CHECK(relu.exit_code == 1);
}

TEST_CASE("rotor info prints the paper's counts", "[info][cli]") {
  CommandResult r = rotor_ok("info --model resnet56");
  CHECK_THAT(r.output, Catch::Contains("853,018 parameters") && Catch::Contains("251.23 M FLOPs"));
  r = rotor_ok("info --model resnet110");
  CHECK_THAT(r.output, Catch::Contains("1,727,962 parameters") && Catch::Contains("506.29 M FLOPs"));
  r = rotor_ok("info --model wrn-16-4 --classes 10");
  CHECK_THAT(r.output, Catch::Contains("1552 RReLU slopes"));
  r = run_rotor("info --model resnet20 --input 3x32");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("expected CxHxW"));
}
