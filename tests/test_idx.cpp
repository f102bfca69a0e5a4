// The IDX loader on files the test writes: raw and gzip, and broken ones.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>

#include "data/idx.h"
#include "data/registry.h"
#include "engine/error.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
                               uint8_t type = 0x08) {
  std::vector<uint8_t> b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

std::vector<uint8_t> ramp(size_t n, int mul = 7) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * mul);
  return v;
}

// A small MNIST-format directory: 5 training and 3 test images of 4x3.
std::string write_mnist_dir(bool gz) {
  const std::string dir = temp_dir(gz ? "idx-gz" : "idx-raw");
  auto put = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
    if (gz)
      write_gzip(dir + "/" + name + ".gz", bytes);
    else
      write_bytes(dir + "/" + name, bytes);
  };
  put("train-images-idx3-ubyte", idx_bytes({5, 4, 3}, ramp(60)));
  put("train-labels-idx1-ubyte", idx_bytes({5}, {0, 1, 9, 3, 4}));
  put("t10k-images-idx3-ubyte", idx_bytes({3, 4, 3}, ramp(36, 3)));
  put("t10k-labels-idx1-ubyte", idx_bytes({3}, {7, 8, 2}));
  return dir;
}

}  // namespace

TEST_CASE("IDX files are read raw and gzip-compressed", "[loader][idx]") {
  for (const bool gz : {false, true}) {
    const DataSplit s = load_data("mnist:" + write_mnist_dir(gz));
    REQUIRE(s.train.size() == 5);
    REQUIRE(s.test.size() == 3);
    CHECK(s.train.channels == 1);
    CHECK(s.train.height == 4);
    CHECK(s.train.width == 3);
    CHECK(s.train.images == ramp(60));
    CHECK(s.test.images == ramp(36, 3));
    CHECK(s.train.labels == std::vector<int32_t>{0, 1, 9, 3, 4});
    CHECK(s.test.labels == std::vector<int32_t>{7, 8, 2});
    CHECK(s.classes == 10);
    CHECK_FALSE(s.natural_images);
  }
}

TEST_CASE("broken IDX files give one clear error naming the file", "[loader][idx]") {
  const std::string dir = temp_dir("idx-bad");
  const std::string f = dir + "/x-idx3-ubyte";
  auto error_of = [&](const std::vector<uint8_t>& bytes) {
    write_bytes(f, bytes);
    try {
      read_idx(f);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto good = idx_bytes({2, 3, 3}, ramp(18));
  CHECK_THAT(error_of(std::vector<uint8_t>(good.begin(), good.end() - 1)),
             Catch::Contains(f) && Catch::Contains("truncated"));
  CHECK_THAT(error_of({0, 0, 8}), Catch::Contains("truncated") && Catch::Contains("no IDX header"));
  CHECK_THAT(error_of({0, 0, 8, 3, 0, 0}), Catch::Contains("header ends"));
  CHECK_THAT(error_of(idx_bytes({2, 3, 3}, ramp(18), 0x0D)), Catch::Contains("element type 0x0d"));
  auto bad_magic = good;
  bad_magic[0] = 0x1f;
  CHECK_THAT(error_of(bad_magic), Catch::Contains("not an IDX file"));
  auto extra = good;
  extra.push_back(1);
  CHECK_THAT(error_of(extra), Catch::Contains("unexpected bytes"));
  CHECK_THAT(error_of(idx_bytes({2, 0, 3}, {})), Catch::Contains("has size 0"));
  CHECK_THAT(error_of({0, 0, 8, 0}), Catch::Contains("0 dimensions"));

  // A corrupt gzip stream: valid header, damaged deflate data.
  const std::string gz = dir + "/c.gz";
  write_gzip(gz, ramp(5000));
  auto bytes = read_bytes(gz);
  for (size_t i = 20; i < bytes.size() - 8; i += 7) bytes[i] ^= 0x5A;
  write_bytes(gz, bytes);
  CHECK_THROWS_WITH(read_idx(gz), Catch::Contains(gz) && Catch::Contains("corrupt"));
  // A truncated gzip stream.
  write_gzip(gz, idx_bytes({50, 10, 10}, ramp(5000)));
  bytes = read_bytes(gz);
  bytes.resize(bytes.size() / 2);
  write_bytes(gz, bytes);
  CHECK_THROWS_WITH(read_idx(gz), Catch::Contains(gz));
  CHECK_THROWS_WITH(read_idx(dir + "/missing"), Catch::Contains("cannot open") && Catch::Contains("missing"));
}

TEST_CASE("an IDX pair must agree and have labels in range", "[loader][idx]") {
  const std::string dir = temp_dir("idx-pair");
  write_bytes(dir + "/i", idx_bytes({3, 2, 2}, ramp(12)));
  write_bytes(dir + "/l", idx_bytes({2}, {1, 2}));
  CHECK_THROWS_WITH(read_idx_pair(dir + "/i", dir + "/l", 10), Catch::Contains("3 images") && Catch::Contains("2 labels"));
  write_bytes(dir + "/l", idx_bytes({3}, {1, 2, 10}));
  CHECK_THROWS_WITH(read_idx_pair(dir + "/i", dir + "/l", 10), Catch::Contains("label 10 of item 2"));
  write_bytes(dir + "/l", idx_bytes({3, 1}, {1, 2, 3}));
  CHECK_THROWS_WITH(read_idx_pair(dir + "/i", dir + "/l", 10), Catch::Contains("1 dimension"));
  CHECK_THROWS_WITH(load_data("mnist:" + dir), Catch::Contains("no train-images-idx3-ubyte in " + dir));
  CHECK_THROWS_WITH(load_data("mnist"), Catch::Contains("needs a directory"));
  CHECK_THROWS_WITH(load_data("imagenet:/x"), Catch::Contains("unknown data set 'imagenet:/x'"));
}

TEST_CASE("an IDX header is checked against the file size before anything is allocated", "[loader][idx]") {
  const std::string dir = temp_dir("idx-claims");
  auto error_of = [&](const std::string& path) {
    try {
      read_idx(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // 16 bytes that claim 2^23 images of 28x28: refused at once, not after
  // 6.6 GB of allocation.
  const std::string raw = dir + "/train-images-idx3-ubyte";
  write_bytes(raw, idx_bytes({1u << 23, 28, 28}, {}));
  CHECK(error_of(raw) == raw + ": header claims 8388608 images of 28x28 (6.6 GB) but the file holds 0 bytes after "
                               "its 16-byte header; it is truncated or its header is corrupt");
  write_bytes(raw, idx_bytes({1000, 28, 28}, ramp(100)));
  CHECK_THAT(error_of(raw), Catch::Contains("header claims 1000 images of 28x28 (784.0 kB) but the file holds 100 "
                                            "bytes after its 16-byte header"));
  const std::string labels = dir + "/labels";
  write_bytes(labels, idx_bytes({60000}, {1, 2, 3}));
  CHECK_THAT(error_of(labels), Catch::Contains("header claims 60000 labels (60.0 kB) but the file holds 3 bytes"));
  // gzip: no more than deflate's best ratio (1032:1) of the compressed size.
  const std::string gz = dir + "/images.gz";
  write_gzip(gz, idx_bytes({20000, 28, 28}, {}));
  CHECK_THAT(error_of(gz), Catch::Contains(gz + ": header claims 20000 images of 28x28 (15.7 MB) but the file holds") &&
                               Catch::Contains("bytes of gzip data (at most"));
  // Within the ratio but cut short: the data run out, reported as truncated.
  write_gzip(gz, idx_bytes({20, 28, 28}, ramp(1000)));
  CHECK_THAT(error_of(gz), Catch::Contains("truncated file: header claims 20 images of 28x28 (15680 data bytes) but "
                                           "the data end before byte 15680"));
}

TEST_CASE("an IDX path that is not a regular file is refused without blocking", "[loader][idx]") {
  const std::string dir = temp_dir("idx-fifo");
  const std::string fifo = dir + "/t10k-images-idx3-ubyte";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto result = std::async(std::launch::async, [&] {
    try {
      read_idx(fifo);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  });
  if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    // Unblock the reader (the old code waited for a writer forever).
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
    FAIL("read_idx blocked on a FIFO");
  }
  CHECK(result.get() == fifo + " is not a regular file (a directory, device or pipe)");
  CHECK_THROWS_WITH(read_idx(dir), Catch::Contains(dir + " is not a regular file"));
}

TEST_CASE("test_only reads the test files of an MNIST directory and never the training files", "[loader][idx]") {
  const std::string dir = write_mnist_dir(false);
  write_bytes(dir + "/train-images-idx3-ubyte", {0x1f, 0x8b, 1, 2});  // corrupt
  CHECK_THROWS_WITH(load_data("mnist:" + dir), Catch::Contains("train-images-idx3-ubyte"));
  const DataSplit s = load_data("mnist:" + dir, 1, DataParts::test_only);
  CHECK(s.train.size() == 0);
  CHECK(s.test.size() == 3);
  CHECK(s.test.labels == std::vector<int32_t>{7, 8, 2});
  std::filesystem::remove(dir + "/train-images-idx3-ubyte");
  std::filesystem::remove(dir + "/train-labels-idx1-ubyte");
  CHECK(load_data("mnist:" + dir, 1, DataParts::test_only).test.size() == 3);
  std::filesystem::remove(dir + "/t10k-labels-idx1-ubyte");
  CHECK_THROWS_WITH(load_data("mnist:" + dir, 1, DataParts::test_only),
                    Catch::Contains("no t10k-labels-idx1-ubyte in " + dir));
}
