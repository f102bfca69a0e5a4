// Reads NumPy .npy files (version 1.0, little-endian, C order, <f8 or <i8),
// the format of the PyTorch reference cases in ../shared/golden, and writes
// float32 ones (<f4) for Python-side checks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rotor::test {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<double> values;  // <i8 data converted exactly (|v| < 2^53)

  int64_t numel() const;
  std::vector<float> as_float() const;
  std::vector<int32_t> as_int32() const;
};

NpyArray read_npy(const std::string& path);
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& values);

}  // namespace rotor::test
