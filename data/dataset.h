// Dataset: a whole labelled image set held as uint8 (N, C, H, W), and the
// train/test pair a run uses.
//
// Images stay uint8 until a batch is assembled on the device that trains
// (kernels/augment.h), so a data set costs one byte per pixel in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rotor {

struct Dataset {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> images;  // (N, C, H, W)
  std::vector<int32_t> labels;  // (N), in [0, classes)

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t image_bytes() const { return channels * height * width; }
  // Keeps images [begin, end).
  Dataset slice(int64_t begin, int64_t end) const;
};

struct DataSplit {
  std::string name;  // "fashion-mnist", "cifar10", ...
  std::string source;  // where it was read from
  Dataset train, test;
  int64_t classes = 0;
  std::vector<std::string> class_names;
  bool natural_images = false;  // augmentation (crop + flip) on by default
};

// The parts of a data set a command reads: rotor eval needs the test images
// only, so a missing or corrupt training file does not stop an evaluation
// (the training Dataset stays empty).
enum class DataParts { train_and_test, test_only };

// Per-channel mean and standard deviation of the pixels, on the 0..255 scale.
struct ChannelStats {
  std::vector<double> mean, std;
};
ChannelStats channel_stats(const Dataset& d);

// Checks shapes, sizes and label ranges (of the parts read); throws naming
// `what`.
void validate(const DataSplit& split, const std::string& what, DataParts parts = DataParts::train_and_test);

}  // namespace rotor
