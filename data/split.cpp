#include "data/split.h"

#include <cmath>

#include "engine/error.h"
#include "engine/rng.h"

namespace rotor {

IndexSplit stratified_split(const std::vector<int32_t>& labels, int64_t classes, double first_fraction, uint64_t seed) {
  ROTOR_CHECK(first_fraction >= 0 && first_fraction <= 1, "split fraction {} is not in [0, 1]", first_fraction);
  ROTOR_CHECK(classes >= 1, "cannot split a data set of {} classes", classes);
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(classes));
  for (size_t i = 0; i < labels.size(); ++i) {
    ROTOR_CHECK(labels[i] >= 0 && labels[i] < classes, "label {} of image {} is not in [0, {})", labels[i], i, classes);
    by_class[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  }
  Rng rng(seed);
  std::vector<char> in_first(labels.size(), 0);
  int64_t seen = 0, dealt = 0;  // images of the classes so far; of them, how many went to `first`
  for (std::vector<int64_t>& members : by_class) {
    const int64_t n = static_cast<int64_t>(members.size());
    for (int64_t i = n - 1; i > 0; --i) std::swap(members[i], members[rng.below(static_cast<uint64_t>(i + 1))]);
    seen += n;
    // Cumulative rounding: the running total stays round(f * seen), so no
    // class's share is rounded the same way as every other's.
    const int64_t target = std::llround(first_fraction * static_cast<double>(seen));
    const int64_t take = target - dealt;
    for (int64_t i = 0; i < take; ++i) in_first[static_cast<size_t>(members[i])] = 1;
    dealt = target;
  }
  IndexSplit s;
  s.first.reserve(static_cast<size_t>(dealt));
  s.second.reserve(labels.size() - static_cast<size_t>(dealt));
  for (size_t i = 0; i < labels.size(); ++i) (in_first[i] ? s.first : s.second).push_back(static_cast<int64_t>(i));
  return s;
}

Dataset evenly_spaced(const Dataset& d, int64_t n) {
  ROTOR_CHECK(n >= 0 && n <= d.size(), "cannot pick {} of {} images", n, d.size());
  std::vector<int64_t> indices(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) indices[static_cast<size_t>(i)] = i * d.size() / n;
  return subset(d, indices);
}

Dataset subset(const Dataset& d, const std::vector<int64_t>& indices) {
  Dataset out;
  out.channels = d.channels;
  out.height = d.height;
  out.width = d.width;
  const int64_t bytes = d.image_bytes();
  out.images.resize(indices.size() * static_cast<size_t>(bytes));
  out.labels.reserve(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) {
    const int64_t i = indices[k];
    ROTOR_CHECK(i >= 0 && i < d.size(), "image index {} is outside the {} images", i, d.size());
    std::copy(d.images.begin() + i * bytes, d.images.begin() + (i + 1) * bytes,
              out.images.begin() + static_cast<int64_t>(k) * bytes);
    out.labels.push_back(d.labels[static_cast<size_t>(i)]);
  }
  return out;
}

std::vector<int64_t> class_counts(const Dataset& d, int64_t classes) {
  std::vector<int64_t> counts(static_cast<size_t>(classes), 0);
  for (int32_t y : d.labels)
    if (y >= 0 && y < classes) ++counts[static_cast<size_t>(y)];
  return counts;
}

Json ValidationSplit::to_json() const {
  Json j = Json::object();
  j.set("fraction", fraction);
  j.set("seed", static_cast<int64_t>(seed));
  j.set("train_images", train_images);
  return j;
}

ValidationSplit ValidationSplit::from_json(const Json& j) {
  ValidationSplit v;
  v.fraction = j.at("fraction").as_number("val_split.fraction");
  ROTOR_CHECK(v.fraction >= 0 && v.fraction < 1, "val_split.fraction {} is not in [0, 1)", v.fraction);
  v.seed = static_cast<uint64_t>(j.at("seed").as_int("val_split.seed"));
  v.train_images = j.at("train_images").as_int("val_split.train_images");
  return v;
}

HeldOut hold_out_validation(const DataSplit& data, ValidationSplit& v) {
  ROTOR_CHECK(v.enabled(), "{}: no validation split was asked for", data.name);
  if (v.train_images == 0) v.train_images = data.train.size();
  ROTOR_CHECK(data.train.size() == v.train_images,
              "{} ({}) has {} training images, but the validation split was drawn from {}: it is not the data "
              "set the run held its validation images out of",
              data.name, data.source, data.train.size(), v.train_images);
  const IndexSplit s = stratified_split(data.train.labels, data.classes, v.fraction, v.seed);
  ROTOR_CHECK(!s.first.empty() && s.second.size() >= 2,
              "--val-split {} of {}'s {} training images leaves {} to validate on and {} to train on", v.fraction,
              data.name, data.train.size(), s.first.size(), s.second.size());
  return {subset(data.train, s.second), subset(data.train, s.first)};
}

DataSplit without_validation(DataSplit data, ValidationSplit& v) {
  if (!v.enabled()) return data;
  data.train = hold_out_validation(data, v).train;
  return data;
}

}  // namespace rotor
