// Scratch files for tests: a fresh temporary directory per call, and
// helpers to write bytes and run the rotor binary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rotor::test {

// A new empty directory under the system temp dir (removed at exit is not
// guaranteed; names are unique per process and call).
std::string temp_dir(const std::string& tag);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> read_bytes(const std::string& path);
// gzip-compresses bytes into path.
void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs the rotor binary with the arguments (a shell command line fragment).
CommandResult run_rotor(const std::string& args);
// The same, and the calling test fails (showing the output) unless it exits 0.
CommandResult rotor_ok(const std::string& args);

}  // namespace rotor::test

namespace rotor::test {

// The bytes of an unsigned-byte IDX file with these dimensions.
std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims, const uint8_t* data, size_t n);

// A directory holding the first `train` and `test` Fashion-MNIST images (real
// data, Debian's dataset-fashion-mnist) as raw MNIST-format IDX files; made
// once per process and size.
std::string fashion_subset_dir(uint32_t train, uint32_t test);

// A run folder's metrics.jsonl, one compact JSON line per epoch, without the
// timing fields (epoch_s, eval_s, img_per_s): what two runs must agree on.
std::vector<std::string> metrics_of(const std::string& run);

// Two model or checkpoint files hold the same tensors, bit for bit.
void require_same_tensors(const std::string& a, const std::string& b);

}  // namespace rotor::test
