// rotor prune as a user runs it: gamma chosen on a stratified test half (not
// the first classes of a class-ordered test set) or on the training run's
// validation split, what prune.json records about both image sets, and the
// errors: an existing result, a gamma that prunes everything, a file as
// --out, --gamma-from val without a split, usage errors (exit 2).
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <numeric>

#include "apps/run_files.h"
#include "data/registry.h"
#include "engine/tensor_file.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

// Fashion-MNIST's first 3000 training images, and 1000 test images sorted by
// class (the order an image folder loads them in), as MNIST-format files.
std::string class_ordered_data() {
  static std::string dir;  // test-process cache
  if (!dir.empty()) return dir;
  const DataSplit full = load_data("mnist:" + fashion_subset_dir(3000, 1000));
  dir = temp_dir("class-ordered");
  std::vector<size_t> order(static_cast<size_t>(full.test.size()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return full.test.labels[a] < full.test.labels[b]; });
  std::vector<uint8_t> images, labels;
  for (size_t i : order) {
    images.insert(images.end(), full.test.images.begin() + i * 784, full.test.images.begin() + (i + 1) * 784);
    labels.push_back(static_cast<uint8_t>(full.test.labels[i]));
  }
  const std::string src = fashion_subset_dir(3000, 1000);
  std::filesystem::copy_file(src + "/train-images-idx3-ubyte", dir + "/train-images-idx3-ubyte");
  std::filesystem::copy_file(src + "/train-labels-idx1-ubyte", dir + "/train-labels-idx1-ubyte");
  write_bytes(dir + "/t10k-images-idx3-ubyte", idx_bytes({1000, 28, 28}, images.data(), images.size()));
  write_bytes(dir + "/t10k-labels-idx1-ubyte", idx_bytes({1000}, labels.data(), labels.size()));
  return dir;
}

std::vector<int64_t> ints(const Json& a) {
  std::vector<int64_t> v;
  for (const Json& x : a.as_array()) v.push_back(x.as_int());
  return v;
}

std::string train_flags() {
  return " --model fcnn-16 --epochs 2 --opt adam --lr 2e-3 --wd 0 --slope-wd 0.05 --device cpu --threads 1";
}

void expect_exit(const std::string& args, int code, const std::string& message) {
  INFO("rotor " << args);
  const CommandResult r = run_rotor(args);
  INFO(r.output);
  CHECK(r.exit_code == code);
  CHECK_THAT(r.output, Catch::Contains(message));
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') <= 2);
}

}  // namespace

TEST_CASE("prune chooses gamma on a stratified test half and records both halves", "[prune][cli]") {
  const std::string data = "mnist:" + class_ordered_data();
  const std::string run = temp_dir("prune-halves");
  rotor_ok("train" + train_flags() + " --data " + data + " --out " + run);
  const CommandResult p =
      rotor_ok("prune --model-file " + run + "/model.rotor --tolerance 0.01 --device cpu --threads 1");
  CHECK_THAT(p.output, Catch::Contains("half of the test set (stratified, seed 1)"));
  const Json j = read_json_file(run + "/prune/prune.json");
  CHECK(j.at("gamma_from").as_string() == "test-half");
  CHECK(j.at("split_seed").as_int() == 1);
  const std::vector<int64_t> a = ints(j.at("choose").at("class_counts")), b = ints(j.at("report").at("class_counts"));
  REQUIRE(a.size() == 10);
  REQUIRE(b.size() == 10);
  for (size_t c = 0; c < 10; ++c) {
    INFO("class " << c);
    CHECK(a[c] > 0);  // the old split by position gave the choosing half classes 0..4 only
    CHECK(std::abs(a[c] - b[c]) <= 1);
  }
  CHECK(j.at("choose").at("images").as_int() == 500);
  CHECK(j.at("choose").at("acc_unpruned").as_number() == j.at("acc_choose_before").as_number());
  CHECK(j.at("report").at("acc_unpruned").as_number() == j.at("acc_before").as_number());
  CHECK(j.at("report").at("per_class_pruned").at("classes").as_array().size() == 10);
  // The data set came from the model file's record of its training run.
  CHECK(j.at("data_source").as_string() == class_ordered_data());

  // Another seed draws other halves; a second prune into the same folder needs --force.
  expect_exit("prune --model-file " + run + "/model.rotor --split-seed 2 --device cpu", 1,
              "already holds a pruning result");
  rotor_ok("prune --model-file " + run + "/model.rotor --split-seed 2 --force --device cpu --threads 1");
  const Json k = read_json_file(run + "/prune/prune.json");
  CHECK(k.at("split_seed").as_int() == 2);
}

TEST_CASE("a --val-split run holds images out, keeps them out on resume, and prune chooses gamma on them",
          "[prune][cli][val-split]") {
  const std::string data = "mnist:" + class_ordered_data();
  const std::string run = temp_dir("val-run");
  const CommandResult t =
      rotor_ok("train" + train_flags() + " --data " + data + " --val-split 0.2 --stop-after 1 --out " + run);
  // The trainer gets 2400 of the 3000 training images.
  CHECK_THAT(t.output, Catch::Contains("(2400 train / 1000 test images)"));
  const Json run_json = read_json_file(run + "/run.json");
  CHECK(run_json.at("val_split").at("fraction").as_number() == 0.2);
  CHECK(run_json.at("val_split").at("seed").as_int() == 1);
  CHECK(run_json.at("val_split").at("train_images").as_int() == 3000);
  expect_exit("train --resume " + run + " --val-split 0.3", 2, "--val-split cannot be given with --resume");
  const CommandResult r = rotor_ok("train --resume " + run);
  CHECK_THAT(r.output, Catch::Contains("(2400 train / 1000 test images)"));
  CHECK(read_json_file(run + "/run.json").at("val_split") == run_json.at("val_split"));
  // The model file carries the split, so prune rebuilds it from the file alone.
  const TensorFile model = read_tensor_file(run + "/model.rotor");
  CHECK(model.header.at("trained").at("val_split") == run_json.at("val_split"));

  const CommandResult p =
      rotor_ok("prune --model-file " + run + "/model.rotor --tolerance 0.01 --device cpu --threads 1");
  CHECK_THAT(p.output, Catch::Contains("the run's validation split (0.2 of the training images, seed 1)"));
  const Json j = read_json_file(run + "/prune/prune.json");
  CHECK(j.at("gamma_from").as_string() == "val");
  CHECK(j.at("choose_images").as_int() == 600);
  CHECK(j.at("report_images").as_int() == 1000);  // the whole test set, untouched by the choice
  const std::vector<int64_t> report_counts = ints(j.at("report").at("class_counts"));
  CHECK(std::accumulate(report_counts.begin(), report_counts.end(), int64_t{0}) == 1000);
  // The pruned file keeps the record: pruning it again chooses on the same split.
  CHECK(read_tensor_file(run + "/prune/pruned.rotor").header.at("trained").at("val_split") == run_json.at("val_split"));
  expect_exit("prune --model-file " + run + "/model.rotor --gamma-from val --split-seed 3", 2,
              "--split-seed applies to --gamma-from test-half");
  // The split is of this data set's training images: a data set of another size is refused.
  expect_exit("prune --model-file " + run + "/model.rotor --force --data mnist:" + fashion_subset_dir(2000, 500) +
                  " --device cpu",
              1, "has 2000 training images, but the validation split was drawn from 3000");
}

TEST_CASE("prune's errors: clear, before any output, usage errors exit 2", "[prune][cli]") {
  const std::string data = "mnist:" + fashion_subset_dir(3000, 1000);
  const std::string run = temp_dir("prune-errors");
  rotor_ok("train --model fcnn-16 --epochs 1 --device cpu --threads 1 --data " + data + " --out " + run);
  const std::string model = " --model-file " + run + "/model.rotor --device cpu";
  const std::string fresh = run + "/never-made";
  expect_exit("prune" + model + " --gamma-from val --out " + fresh, 1, "records no validation split");
  CHECK_FALSE(std::filesystem::exists(fresh));
  expect_exit("prune" + model + " --gamma 1e9 --out " + fresh, 1, "--gamma 1e9 would prune every slope");
  expect_exit("prune" + model + " --gamma 1e9 --out " + fresh, 1, "the largest |b| is");
  CHECK_FALSE(std::filesystem::exists(fresh));
  expect_exit("prune" + model + " --out " + run + "/run.json", 1, "is not a folder");
  expect_exit("prune --device cpu", 2, "--model-file is required");
  expect_exit("prune" + model + " --bogus", 2, "unknown flag --bogus");
  expect_exit("prune" + model + " --gamma 0.1 --gamma-from test-half", 2, "exclude each other");
  expect_exit("prune" + model + " --gamma-from train", 2, "expected val or test-half");
  expect_exit("prune" + model + " --tolerance 2", 2, "--tolerance must be between 0 and 1");
  expect_exit("train --epochs 0", 2, "--epochs must be between 1 and");
  expect_exit("train --split-seed 3", 2, "--split-seed needs --val-split");
  expect_exit("train --val-split 0.95", 2, "--val-split must be between 0 and 0.9");
  expect_exit("eval --model-file " + run + "/model.rotor --batch x", 2, "--batch expects an integer");
  // A given gamma reports on the whole test set.
  rotor_ok("prune" + model + " --gamma 0.01 --threads 1");
  const Json j = read_json_file(run + "/prune/prune.json");
  CHECK(j.at("gamma_from").as_string() == "given");
  CHECK(j.at("report_images").as_int() == 1000);
}
