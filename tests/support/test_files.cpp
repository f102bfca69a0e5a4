#include "tests/support/test_files.h"

#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/error.h"

namespace rotor::test {

std::string temp_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  const auto dir = std::filesystem::temp_directory_path() /
                   ("rotor-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ROTOR_CHECK(out.good(), "cannot write {}", path);
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  ROTOR_CHECK(in.good(), "cannot read {}", path);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ROTOR_CHECK(f != nullptr, "cannot write {}", path);
  const int n = gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  ROTOR_CHECK(n == static_cast<int>(bytes.size()), "cannot write {}", path);
}

CommandResult run_rotor(const std::string& args) {
  const std::string command = std::string(ROTOR_BIN) + " " + args + " 2>&1";
  CommandResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  ROTOR_CHECK(pipe != nullptr, "cannot run {}", command);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace rotor::test

#include <map>

#include "data/registry.h"
#include "engine/json.h"
#include "engine/tensor_file.h"

namespace rotor::test {

CommandResult rotor_ok(const std::string& args) {
  const CommandResult r = run_rotor(args);
  INFO("rotor " << args << "\n" << r.output);
  REQUIRE(r.exit_code == 0);
  return r;
}

std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims, const uint8_t* data, size_t n) {
  std::vector<uint8_t> b = {0, 0, 8, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
  b.insert(b.end(), data, data + n);
  return b;
}

std::string fashion_subset_dir(uint32_t train, uint32_t test) {
  static std::map<std::pair<uint32_t, uint32_t>, std::string> made;  // test-process cache, not library state
  const auto key = std::make_pair(train, test);
  if (made.count(key)) return made[key];
  const DataSplit full = load_data("fashion-mnist");
  const std::string dir = temp_dir("fashion-subset");
  auto put = [&](const std::string& name, const Dataset& d, uint32_t n) {
    write_bytes(dir + "/" + name + "-images-idx3-ubyte", idx_bytes({n, 28, 28}, d.images.data(), n * 784u));
    const std::vector<uint8_t> labels(d.labels.begin(), d.labels.begin() + n);
    write_bytes(dir + "/" + name + "-labels-idx1-ubyte", idx_bytes({n}, labels.data(), n));
  };
  put("train", full.train, train);
  put("t10k", full.test, test);
  return made[key] = dir;
}

std::vector<std::string> metrics_of(const std::string& run) {
  std::ifstream in(run + "/metrics.jsonl");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    Json j = Json::parse(line), kept = Json::object();
    for (const auto& [k, v] : j.as_object())
      if (k != "epoch_s" && k != "eval_s" && k != "img_per_s") kept.set(k, v);
    lines.push_back(kept.dump());
  }
  return lines;
}

void require_same_tensors(const std::string& a, const std::string& b) {
  const TensorFile fa = read_tensor_file(a), fb = read_tensor_file(b);
  REQUIRE(fa.tensors.size() == fb.tensors.size());
  for (size_t i = 0; i < fa.tensors.size(); ++i) {
    INFO(fa.tensors[i].first);
    REQUIRE(fa.tensors[i].first == fb.tensors[i].first);
    REQUIRE(fa.tensors[i].second.bytes() == fb.tensors[i].second.bytes());
    CHECK(std::memcmp(fa.tensors[i].second.raw(), fb.tensors[i].second.raw(), fa.tensors[i].second.bytes()) == 0);
  }
}

}  // namespace rotor::test
