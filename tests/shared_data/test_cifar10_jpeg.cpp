// The image-folder loader on real JPEGs: a sixth of the shared CIFAR-10 JPEG
// copy (files 0000-0499 of every class, train and test), extracted with tar
// into a scratch folder and loaded as folder:DIR. Checks the official class
// order, the image size, the label counts, that the decode matches
// stb_image's, and that the pixel statistics are those of CIFAR-10.
//
// The scratch folder is in /dev/shm when there is one: creating 10,000 small
// files on a busy disk file system took 16 s here, in RAM about 1 s.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <stb_image.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "data/registry.h"
#include "tests/shared_data/shared_data.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A fresh scratch folder, removed with everything in it at scope exit.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::error_code ec;
    if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) {
      path = "/dev/shm/rotor-test-cifar10-jpg-" + std::to_string(::getpid());
      std::filesystem::remove_all(path, ec);
      if (std::filesystem::create_directory(path, ec)) return;
    }
    path = temp_dir("cifar10-jpg");
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::vector<int64_t> label_counts(const Dataset& d, int64_t classes) {
  std::vector<int64_t> counts(classes, 0);
  for (int32_t l : d.labels) ++counts.at(l);
  return counts;
}

}  // namespace

TEST_CASE("cifar10 JPEG folder loads with the official classes, sizes and statistics", "[shared-data][folder]") {
  const ScratchDir scratch;
  const std::string& tmp = scratch.path;
  auto t0 = std::chrono::steady_clock::now();
  const std::string command =
      fmt::format("tar xzf '{}' -C '{}' --wildcards 'cifar10-jpg/*/*/0[0-4]??.jpg'", cifar10_jpg_tarball(), tmp);
  REQUIRE(std::system(command.c_str()) == 0);
  const double extract_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const std::string dir = tmp + "/cifar10-jpg";
  const DataSplit s = load_data("folder:" + dir);
  const double load_s = seconds_since(t0);
  WARN(fmt::format("extracted 10,000 JPEGs in {:.2f} s, loaded them in {:.2f} s", extract_s, load_s));

  REQUIRE(s.classes == 10);
  REQUIRE(s.class_names == std::vector<std::string>{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                    "horse", "ship", "truck"});
  REQUIRE(s.natural_images);
  for (const Dataset* d : {&s.train, &s.test}) {
    REQUIRE(d->channels == 3);
    REQUIRE(d->height == 32);
    REQUIRE(d->width == 32);
    REQUIRE(label_counts(*d, 10) == std::vector<int64_t>(10, 500));
  }
  REQUIRE(std::is_sorted(s.train.labels.begin(), s.train.labels.end()));

  // The first training image is train/airplane/0000.jpg as stb_image decodes
  // it, moved from (H, W, C) to (C, H, W).
  int w = 0, h = 0, c = 0;
  stbi_uc* ref = stbi_load((dir + "/train/airplane/0000.jpg").c_str(), &w, &h, &c, 3);
  REQUIRE(ref != nullptr);
  std::vector<uint8_t> planes(3 * 32 * 32);
  for (int ch = 0; ch < 3; ++ch)
    for (int p = 0; p < 32 * 32; ++p) planes[ch * 1024 + p] = ref[p * 3 + ch];
  stbi_image_free(ref);
  REQUIRE(std::vector<uint8_t>(s.train.images.begin(), s.train.images.begin() + 3072) == planes);

  // CIFAR-10's channel means are about 125, 123, 114 and its standard
  // deviations about 63, 62, 67 (on 0..255); a tenth of it, re-encoded as
  // JPEG, stays close. Images must differ from each other.
  const double cifar_mean[3] = {125.3, 123.0, 113.9}, cifar_std[3] = {63.0, 62.1, 66.7};
  for (const Dataset* d : {&s.train, &s.test}) {
    const ChannelStats st = channel_stats(*d);
    for (int ch = 0; ch < 3; ++ch) {
      INFO("channel " << ch << ": mean " << st.mean[ch] << ", std " << st.std[ch]);
      REQUIRE(st.mean[ch] > 60);
      REQUIRE(st.mean[ch] < 200);
      REQUIRE(std::abs(st.mean[ch] - cifar_mean[ch]) < 6);
      REQUIRE(std::abs(st.std[ch] - cifar_std[ch]) < 6);
    }
    int64_t distinct_neighbours = 0;
    for (int64_t i = 1; i < d->size(); ++i)
      distinct_neighbours += !std::equal(d->images.begin() + (i - 1) * 3072, d->images.begin() + i * 3072,
                                         d->images.begin() + i * 3072);
    REQUIRE(distinct_neighbours > d->size() * 99 / 100);
  }
}
