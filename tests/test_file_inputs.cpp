// Model and checkpoint files (the tensor-file container) and rotor eval on
// hostile inputs: a directory, a FIFO or a device where a file belongs, a
// header claiming more than the file holds, a training split that is
// corrupt, and a model meeting a data set of other classes.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/tensor_file.h"
#include "models/model_file.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Runs f on another thread; a FIFO that blocks it is unblocked after 10 s
// (so the test ends on the old code too) and the test fails.
std::string error_without_blocking(const std::string& fifo, const std::function<void()>& f) {
  auto result = std::async(std::launch::async, [&] { return error_of(f); });
  if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
    result.wait();
    return "blocked on the FIFO";
  }
  return result.get();
}

template <class T> void put(std::vector<uint8_t>& b, T v) {
  const size_t at = b.size();
  b.resize(at + sizeof v);
  std::memcpy(b.data() + at, &v, sizeof v);
}

// A tensor file by hand: header {} and one f32 tensor "x" of `shape` whose
// byte count field says `bytes`, with `data` after it and a valid checksum.
std::vector<uint8_t> tensor_file_bytes(const std::vector<int64_t>& shape, uint64_t bytes,
                                       const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b = {'R', 'O', 'T', 'O', 'R', 'T', 'F', 0};
  put<uint32_t>(b, 1);
  put<uint64_t>(b, 2);
  b.push_back('{');
  b.push_back('}');
  put<uint64_t>(b, 1);
  put<uint32_t>(b, 1);
  b.push_back('x');
  b.push_back(0);  // f32
  b.push_back(static_cast<uint8_t>(shape.size()));
  for (int64_t d : shape) put<int64_t>(b, d);
  put<uint64_t>(b, bytes);
  b.insert(b.end(), data.begin(), data.end());
  put<uint32_t>(b, static_cast<uint32_t>(crc32(0, b.data(), static_cast<uInt>(b.size()))));
  return b;
}

ModelSpec digit_spec() {
  ModelSpec s;
  s.arch = "fcnn-4";
  s.in_channels = 1;
  s.height = 4;
  s.width = 3;
  s.classes = 10;
  s.mean = {100};
  s.std = {50};
  for (int i = 0; i < 10; ++i) s.class_names.push_back(std::to_string(i));
  return s;
}

// An MNIST-format directory of 4x3 images: 5 training, 3 test.
std::string mnist_dir() {
  const std::string dir = temp_dir("eval-mnist");
  std::vector<uint8_t> px(60);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 11);
  const uint8_t train_labels[] = {0, 1, 2, 3, 4}, test_labels[] = {5, 6, 7};
  write_bytes(dir + "/train-images-idx3-ubyte", idx_bytes({5, 4, 3}, px.data(), 60));
  write_bytes(dir + "/train-labels-idx1-ubyte", idx_bytes({5}, train_labels, 5));
  write_bytes(dir + "/t10k-images-idx3-ubyte", idx_bytes({3, 4, 3}, px.data(), 36));
  write_bytes(dir + "/t10k-labels-idx1-ubyte", idx_bytes({3}, test_labels, 3));
  return dir;
}

}  // namespace

TEST_CASE("a directory, a FIFO or a device is refused as a model file before it is read", "[files]") {
  const std::string dir = temp_dir("tf-kinds");
  CHECK(error_of([&] { read_tensor_file(dir); }) == dir + " is a directory, not a rotor model or checkpoint file");
  // /dev/zero has no end: the old reader read it until memory ran out.
  CHECK(error_of([&] { read_tensor_file("/dev/zero"); }) ==
        "/dev/zero is not a regular file (a pipe, socket or device), so not a rotor model or checkpoint file");
  const std::string fifo = dir + "/model.rotor";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(error_without_blocking(fifo, [&] { read_tensor_file(fifo); }) ==
        fifo + " is not a regular file (a pipe, socket or device), so not a rotor model or checkpoint file");
  // Through the command line: one line, exit code 1 (a directory used to be
  // an "internal error", exit code 3).
  const CommandResult r = run_rotor("eval --model-file " + dir + " --data mnist:" + dir);
  CHECK(r.exit_code == 1);
  CHECK(r.output == "rotor eval: error: " + dir + " is a directory, not a rotor model or checkpoint file\n");
}

TEST_CASE("a tensor whose shape claims more than the file holds is refused", "[files]") {
  const std::string dir = temp_dir("tf-claims");
  const std::string path = dir + "/big.rotor";
  // The shape's size overflows 64 bits; a byte count of 0 used to match the
  // wrapped product and give a tensor of shape 2^32 x 2^32 with no data.
  write_bytes(path, tensor_file_bytes({int64_t(1) << 32, int64_t(1) << 32}, 0, {}));
  CHECK(error_of([&] { read_tensor_file(path); }) ==
        path + ": tensor x of shape (4294967296, 4294967296) holds 0 bytes, expected more than 2^64");
  // A consistent claim of 4 GiB in a file of a few bytes.
  write_bytes(path, tensor_file_bytes({int64_t(1) << 30}, uint64_t(4) << 30, {1, 2, 3, 4}));
  CHECK(error_of([&] { read_tensor_file(path); }) ==
        path + ": tensor x of shape (1073741824) claims 4294967296 bytes but only 4 are left in the file");
  write_bytes(path, tensor_file_bytes({1}, 4, {0, 0, 128, 63}));
  CHECK(read_tensor_file(path).find("x")->f32()[0] == 1.0f);
}

TEST_CASE("a model file is not written over a directory", "[files]") {
  Context ctx;
  auto model = build_model(ctx, digit_spec());
  const std::string dir = temp_dir("tf-write");
  std::filesystem::create_directories(dir + "/taken");
  CHECK(error_of([&] { save_model_file(ctx, dir + "/taken", *model); }) ==
        "cannot write " + dir + "/taken: it is a directory");
  CHECK_FALSE(std::filesystem::exists(dir + "/taken.tmp"));
}

TEST_CASE("rotor eval reads only the test split", "[files][eval]") {
  Context ctx;
  auto model = build_model(ctx, digit_spec());
  const std::string dir = mnist_dir();
  const std::string path = dir + "/m.rotor";
  save_model_file(ctx, path, *model);
  rotor_ok("eval --model-file " + path + " --data mnist:" + dir);
  // A corrupt or missing training file does not matter to an evaluation.
  write_bytes(dir + "/train-images-idx3-ubyte", {0, 0, 8, 3, 0, 0});
  CHECK_THAT(rotor_ok("eval --model-file " + path + " --data mnist:" + dir).output,
             Catch::Contains("on 3 test images"));
  std::filesystem::remove(dir + "/train-labels-idx1-ubyte");
  CHECK_THAT(rotor_ok("eval --model-file " + path + " --data mnist:" + dir).output,
             Catch::Contains("on 3 test images"));
}

TEST_CASE("rotor eval refuses a data set whose class names differ from the model's", "[files][eval]") {
  Context ctx;
  ModelSpec spec = digit_spec();
  spec.class_names = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  auto model = build_model(ctx, spec);
  const std::string dir = mnist_dir();
  const std::string path = dir + "/cifar-like.rotor";
  save_model_file(ctx, path, *model);
  const CommandResult r = run_rotor("eval --model-file " + path + " --data mnist:" + dir);
  CHECK(r.exit_code == 1);
  CHECK(r.output == "rotor eval: error: " + path +
                        " was trained on the classes [airplane, automobile, bird, cat, deer, dog, frog, horse, "
                        "ship, truck] but --data mnist:" +
                        dir + " has the classes [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]; pass --ignore-class-names to "
                              "evaluate it anyway\n");
  CHECK_THAT(rotor_ok("eval --ignore-class-names --model-file " + path + " --data mnist:" + dir).output,
             Catch::Contains("on 3 test images"));
}
