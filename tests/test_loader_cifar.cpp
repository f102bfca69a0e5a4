// CIFAR-10 and CIFAR-100 binary loaders on small files written here in the
// official record format: pixels and labels must come back exactly, and each
// kind of broken release must give one Error that says what is wrong.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "data/cifar.h"
#include "data/registry.h"
#include "engine/error.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

constexpr size_t pixels = 3072;  // 3 x 32 x 32

// One record per entry of `labels`: the label bytes (1 or 2), then 3072
// pseudo-random pixels; `images` receives the pixels in order.
std::vector<uint8_t> records(const std::vector<std::vector<uint8_t>>& labels, std::mt19937& rng,
                             std::vector<uint8_t>& images) {
  std::vector<uint8_t> bytes;
  for (const auto& l : labels) {
    bytes.insert(bytes.end(), l.begin(), l.end());
    for (size_t i = 0; i < pixels; ++i) {
      const uint8_t p = static_cast<uint8_t>(rng());
      bytes.push_back(p);
      images.push_back(p);
    }
  }
  return bytes;
}

struct Cifar10Files {
  std::vector<uint8_t> train_images, test_images;
  std::vector<int32_t> train_labels, test_labels;
};

// data_batch_1..5.bin with 2 records each and test_batch.bin with 3.
Cifar10Files write_cifar10(const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::mt19937 rng(10);
  Cifar10Files f;
  for (int b = 1; b <= 5; ++b) {
    const uint8_t l0 = static_cast<uint8_t>((2 * b) % 10), l1 = static_cast<uint8_t>((2 * b + 1) % 10);
    write_bytes(dir + "/data_batch_" + std::to_string(b) + ".bin", records({{l0}, {l1}}, rng, f.train_images));
    f.train_labels.push_back(l0);
    f.train_labels.push_back(l1);
  }
  write_bytes(dir + "/test_batch.bin", records({{9}, {0}, {4}}, rng, f.test_images));
  f.test_labels = {9, 0, 4};
  return f;
}

}  // namespace

TEST_CASE("cifar10 binary batches load with exact pixels and labels", "[loader][cifar]") {
  const std::string dir = temp_dir("cifar10");
  const Cifar10Files f = write_cifar10(dir);
  const DataSplit s = load_data("cifar10:" + dir);
  REQUIRE(s.name == "cifar10");
  REQUIRE(s.source == dir);
  REQUIRE(s.classes == 10);
  REQUIRE(s.natural_images);
  REQUIRE(s.class_names == std::vector<std::string>{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                    "horse", "ship", "truck"});
  REQUIRE(s.train.channels == 3);
  REQUIRE(s.train.height == 32);
  REQUIRE(s.train.width == 32);
  REQUIRE(s.train.size() == 10);
  REQUIRE(s.test.size() == 3);
  REQUIRE(s.train.labels == f.train_labels);
  REQUIRE(s.test.labels == f.test_labels);
  REQUIRE(s.train.images == f.train_images);
  REQUIRE(s.test.images == f.test_images);
  // The record's planes are R, G, B, each row-major: pixel (c=1, h=5, w=7)
  // of the 4th training image is record byte 1 + 1024 + 5*32 + 7.
  const std::vector<uint8_t> batch2 = read_bytes(dir + "/data_batch_2.bin");
  REQUIRE(s.train.images[3 * pixels + 1024 + 5 * 32 + 7] == batch2[3073 + 1 + 1024 + 5 * 32 + 7]);
}

TEST_CASE("cifar10 accepts the parent of cifar-10-batches-bin", "[loader][cifar]") {
  const std::string dir = temp_dir("cifar10-parent");
  const Cifar10Files f = write_cifar10(dir + "/cifar-10-batches-bin");
  const DataSplit s = load_data("cifar10:" + dir);
  REQUIRE(s.source == dir + "/cifar-10-batches-bin");
  REQUIRE(s.train.labels == f.train_labels);
  REQUIRE(s.test.images == f.test_images);
}

TEST_CASE("cifar100 reads fine labels by default and coarse labels on request", "[loader][cifar]") {
  const std::string dir = temp_dir("cifar100") + "/cifar-100-binary";
  std::filesystem::create_directories(dir);
  std::mt19937 rng(100);
  std::vector<uint8_t> train_images, test_images;
  // (coarse, fine) pairs as in the release: apple (0) is fruit_and_vegetables (4).
  write_bytes(dir + "/train.bin", records({{4, 0}, {19, 99}, {0, 55}, {11, 56}}, rng, train_images));
  write_bytes(dir + "/test.bin", records({{17, 96}, {14, 2}}, rng, test_images));

  const DataSplit fine = load_data("cifar100:" + dir);
  REQUIRE(fine.name == "cifar100");
  REQUIRE(fine.classes == 100);
  REQUIRE(fine.natural_images);
  REQUIRE(fine.train.labels == std::vector<int32_t>{0, 99, 55, 56});
  REQUIRE(fine.test.labels == std::vector<int32_t>{96, 2});
  REQUIRE(fine.train.images == train_images);
  REQUIRE(fine.test.images == test_images);
  REQUIRE(fine.class_names.size() == 100);
  REQUIRE(std::is_sorted(fine.class_names.begin(), fine.class_names.end()));  // the release's names are sorted
  REQUIRE(fine.class_names[0] == "apple");
  REQUIRE(fine.class_names[55] == "otter");
  REQUIRE(fine.class_names[99] == "worm");

  const DataSplit coarse = load_data("cifar100-coarse:" + dir);
  REQUIRE(coarse.name == "cifar100-coarse");
  REQUIRE(coarse.classes == 20);
  REQUIRE(coarse.train.labels == std::vector<int32_t>{4, 19, 0, 11});
  REQUIRE(coarse.test.labels == std::vector<int32_t>{17, 14});
  REQUIRE(coarse.train.images == train_images);
  REQUIRE(coarse.class_names.size() == 20);
  REQUIRE(coarse.class_names[4] == "fruit_and_vegetables");
  REQUIRE(coarse.class_names[19] == "vehicles_2");

  // The release's label-name files win over the built-in lists.
  std::string names;
  for (int i = 0; i < 20; ++i) names += "group" + std::to_string(i) + "\r\n";
  names += "\n";
  write_bytes(dir + "/coarse_label_names.txt", std::vector<uint8_t>(names.begin(), names.end()));
  const DataSplit named = load_data("cifar100-coarse:" + dir);
  REQUIRE(named.class_names.size() == 20);
  REQUIRE(named.class_names[0] == "group0");
  REQUIRE(named.class_names[19] == "group19");
}

TEST_CASE("cifar loaders name the file and the fault of a broken release", "[loader][cifar]") {
  SECTION("missing batch") {
    const std::string dir = temp_dir("cifar10-missing");
    write_cifar10(dir);
    std::filesystem::remove(dir + "/data_batch_3.bin");
    REQUIRE_THROWS_WITH(load_data("cifar10:" + dir), Catch::Contains("missing data_batch_3.bin"));
  }
  SECTION("missing test batch") {
    const std::string dir = temp_dir("cifar10-missing-test");
    write_cifar10(dir);
    std::filesystem::remove(dir + "/test_batch.bin");
    REQUIRE_THROWS_WITH(load_data("cifar10:" + dir), Catch::Contains("missing test_batch.bin"));
  }
  SECTION("no such directory") {
    const std::string dir = temp_dir("cifar10-nodir") + "/absent";
    REQUIRE_THROWS_WITH(load_data("cifar10:" + dir), Catch::Contains(dir + " is not a directory"));
  }
  SECTION("truncated batch") {
    const std::string dir = temp_dir("cifar10-truncated");
    write_cifar10(dir);
    std::vector<uint8_t> b = read_bytes(dir + "/data_batch_4.bin");
    b.resize(b.size() - 100);
    write_bytes(dir + "/data_batch_4.bin", b);
    REQUIRE_THROWS_WITH(load_data("cifar10:" + dir),
                        Catch::Contains("data_batch_4.bin: size 6046 bytes is not a positive multiple of the "
                                        "3073-byte record"));
  }
  SECTION("empty batch") {
    const std::string dir = temp_dir("cifar10-empty");
    write_cifar10(dir);
    write_bytes(dir + "/test_batch.bin", {});
    REQUIRE_THROWS_WITH(load_data("cifar10:" + dir),
                        Catch::Contains("test_batch.bin: size 0 bytes is not a positive multiple"));
  }
  SECTION("cifar-100 file read as cifar-10 has the wrong record size") {
    const std::string dir = temp_dir("cifar100-size");
    std::mt19937 rng(1);
    std::vector<uint8_t> ignored;
    write_bytes(dir + "/train.bin", records({{1, 2}}, rng, ignored));
    REQUIRE_THROWS_WITH(read_cifar_file(dir + "/train.bin", CifarLabels::cifar10),
                        Catch::Contains("train.bin: size 3074 bytes is not a positive multiple of the 3073-byte"));
  }
  SECTION("cifar-10 label out of range") {
    const std::string dir = temp_dir("cifar10-label");
    write_cifar10(dir);
    std::vector<uint8_t> b = read_bytes(dir + "/data_batch_5.bin");
    b[3073] = 10;  // label of record 1
    write_bytes(dir + "/data_batch_5.bin", b);
    REQUIRE_THROWS_WITH(load_data("cifar10:" + dir),
                        Catch::Contains("data_batch_5.bin: record 1 has label 10, expected below 10"));
  }
  SECTION("cifar-100 fine and coarse labels out of range") {
    const std::string dir = temp_dir("cifar100-label");
    std::mt19937 rng(2);
    std::vector<uint8_t> ignored;
    write_bytes(dir + "/train.bin", records({{3, 7}, {20, 100}}, rng, ignored));
    write_bytes(dir + "/test.bin", records({{3, 7}}, rng, ignored));
    REQUIRE_THROWS_WITH(load_data("cifar100:" + dir),
                        Catch::Contains("train.bin: record 1 has fine label 100, expected below 100"));
    REQUIRE_THROWS_WITH(load_data("cifar100-coarse:" + dir),
                        Catch::Contains("train.bin: record 1 has coarse label 20, expected below 20"));
  }
  SECTION("label-name file with the wrong count") {
    const std::string dir = temp_dir("cifar10-names");
    write_cifar10(dir);
    const std::string names = "airplane\nautomobile\nbird\n";
    write_bytes(dir + "/batches.meta.txt", std::vector<uint8_t>(names.begin(), names.end()));
    REQUIRE_THROWS_WITH(load_data("cifar10:" + dir),
                        Catch::Contains("batches.meta.txt: 3 class names, expected 10"));
  }
}

TEST_CASE("data registry names every kind in its errors", "[loader]") {
  REQUIRE_THROWS_WITH(load_data("cifar11:/x"),
                      Catch::Contains("unknown data set 'cifar11:/x'") && Catch::Contains("cifar10:DIR") &&
                          Catch::Contains("cifar100-coarse:DIR") && Catch::Contains("svhn:DIR") &&
                          Catch::Contains("folder:DIR"));
  for (const char* kind : {"cifar10", "cifar100", "cifar100-coarse", "svhn", "folder", "mnist"})
    REQUIRE_THROWS_WITH(load_data(kind), Catch::Contains(std::string("needs a directory: ") + kind + ":DIR"));
}

TEST_CASE("test_only reads test_batch.bin and never the training batches", "[loader][cifar]") {
  const std::string parent = temp_dir("cifar10-test-only");
  const std::string dir = parent + "/cifar-10-batches-bin";
  const Cifar10Files f = write_cifar10(dir);
  write_bytes(dir + "/data_batch_2.bin", {1, 2, 3});  // truncated
  std::filesystem::remove(dir + "/data_batch_1.bin");
  REQUIRE_THROWS_WITH(load_data("cifar10:" + parent), Catch::Contains("missing data_batch_1.bin"));
  for (const std::string& d : {dir, parent}) {
    const DataSplit s = load_data("cifar10:" + d, 1, DataParts::test_only);
    CHECK(s.source == dir);
    CHECK(s.train.size() == 0);
    CHECK(s.test.images == f.test_images);
    CHECK(s.test.labels == f.test_labels);
  }
  std::filesystem::remove(dir + "/test_batch.bin");
  REQUIRE_THROWS_WITH(load_data("cifar10:" + dir, 1, DataParts::test_only), Catch::Contains("missing test_batch.bin"));
}
