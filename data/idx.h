// IDX files (MNIST, Fashion-MNIST): raw or gzip-compressed.
//
// Format: two zero bytes, a type byte (0x08 = unsigned byte, the only type
// these data sets use), the number of dimensions, then each dimension as a
// big-endian u32, then the data. Every field is checked against the file; a
// truncated or corrupt file is one Error naming the file and what was wrong.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace rotor {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

IdxArray read_idx(const std::string& path);

// An images file (N, H, W) and a labels file (N) as one Dataset (C = 1);
// labels must be below `classes`.
Dataset read_idx_pair(const std::string& images_path, const std::string& labels_path, int64_t classes);

// MNIST-format directory: train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each raw or with .gz.
DataSplit load_mnist_dir(const std::string& dir, const std::string& name,
                         DataParts parts = DataParts::train_and_test);

}  // namespace rotor
