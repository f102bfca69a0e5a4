#include "data/dataset.h"

#include <cmath>

#include "engine/error.h"

namespace rotor {

Dataset Dataset::slice(int64_t begin, int64_t end) const {
  ROTOR_CHECK(0 <= begin && begin <= end && end <= size(), "dataset slice [{}, {}) of {} images", begin, end, size());
  Dataset d;
  d.channels = channels;
  d.height = height;
  d.width = width;
  d.images.assign(images.begin() + begin * image_bytes(), images.begin() + end * image_bytes());
  d.labels.assign(labels.begin() + begin, labels.begin() + end);
  return d;
}

ChannelStats channel_stats(const Dataset& d) {
  ChannelStats s;
  const int64_t plane = d.height * d.width;
  for (int64_t c = 0; c < d.channels; ++c) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < d.size(); ++i) {
      const uint8_t* p = d.images.data() + i * d.image_bytes() + c * plane;
      uint64_t s1 = 0, s2 = 0;
      for (int64_t j = 0; j < plane; ++j) {
        s1 += p[j];
        s2 += static_cast<uint64_t>(p[j]) * p[j];
      }
      sum += static_cast<double>(s1);
      sq += static_cast<double>(s2);
    }
    const double n = static_cast<double>(d.size() * plane);
    const double mean = n > 0 ? sum / n : 0;
    const double var = n > 0 ? std::max(0.0, sq / n - mean * mean) : 0;
    s.mean.push_back(mean);
    s.std.push_back(var > 0 ? std::sqrt(var) : 1.0);
  }
  return s;
}

static void validate_part(const Dataset& d, int64_t classes, const std::string& what) {
  ROTOR_CHECK(d.channels >= 1 && d.height >= 1 && d.width >= 1, "{}: images of size {}x{}x{}", what, d.channels,
              d.height, d.width);
  ROTOR_CHECK(d.size() > 0, "{}: no images", what);
  ROTOR_CHECK(static_cast<int64_t>(d.images.size()) == d.size() * d.image_bytes(),
              "{}: {} pixel bytes for {} images of {} bytes", what, d.images.size(), d.size(), d.image_bytes());
  for (int64_t i = 0; i < d.size(); ++i)
    ROTOR_CHECK(d.labels[i] >= 0 && d.labels[i] < classes, "{}: label {} of image {} is outside [0, {})", what,
                d.labels[i], i, classes);
}

void validate(const DataSplit& split, const std::string& what, DataParts parts) {
  ROTOR_CHECK(split.classes >= 2, "{}: {} classes", what, split.classes);
  if (parts == DataParts::test_only) {
    validate_part(split.test, split.classes, what + " (test set)");
    return;
  }
  validate_part(split.train, split.classes, what + " (training set)");
  validate_part(split.test, split.classes, what + " (test set)");
  ROTOR_CHECK(split.train.channels == split.test.channels && split.train.height == split.test.height &&
                  split.train.width == split.test.width,
              "{}: training images are {}x{}x{} but test images are {}x{}x{}", what, split.train.channels,
              split.train.height, split.train.width, split.test.channels, split.test.height, split.test.width);
}

}  // namespace rotor
