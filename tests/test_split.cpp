// Stratified, seeded splits (data/split.h): per-class balance, determinism,
// disjoint parts that cover the set, and the validation split a training run
// holds out (never part of what it trains on).
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "data/split.h"
#include "engine/error.h"

using namespace rotor;

namespace {

// Labels in class order, as an image folder loads them: class c has counts[c] images.
std::vector<int32_t> labels_in_class_order(const std::vector<int64_t>& counts) {
  std::vector<int32_t> labels;
  for (size_t c = 0; c < counts.size(); ++c)
    labels.insert(labels.end(), static_cast<size_t>(counts[c]), static_cast<int32_t>(c));
  return labels;
}

std::vector<int64_t> counts_of(const std::vector<int64_t>& indices, const std::vector<int32_t>& labels, int64_t k) {
  std::vector<int64_t> n(static_cast<size_t>(k), 0);
  for (int64_t i : indices) ++n[static_cast<size_t>(labels[static_cast<size_t>(i)])];
  return n;
}

// A data set of 1x2x1 images whose two bytes spell the image's index, so
// every image can be told apart after a split.
DataSplit numbered(const std::vector<int32_t>& train_labels, int64_t classes) {
  DataSplit d;
  d.name = "numbered";
  d.source = "memory";
  d.classes = classes;
  d.train.channels = 1;
  d.train.height = 2;
  d.train.width = 1;
  for (size_t i = 0; i < train_labels.size(); ++i) {
    d.train.images.push_back(static_cast<uint8_t>(i & 0xff));
    d.train.images.push_back(static_cast<uint8_t>(i >> 8));
  }
  d.train.labels = train_labels;
  d.test = d.train.slice(0, 10);
  return d;
}

std::set<int> ids(const Dataset& d) {
  std::set<int> s;
  for (int64_t i = 0; i < d.size(); ++i) s.insert(d.images[2 * i] | (d.images[2 * i + 1] << 8));
  return s;
}

}  // namespace

TEST_CASE("a half split is stratified, disjoint, covering and fixed by its seed", "[split]") {
  const std::vector<int64_t> counts = {1000, 999, 7, 1, 0, 500, 333, 2, 3, 1000};
  const std::vector<int32_t> labels = labels_in_class_order(counts);
  const IndexSplit s = stratified_split(labels, 10, 0.5, 1);
  const auto a = counts_of(s.first, labels, 10), b = counts_of(s.second, labels, 10);
  for (size_t c = 0; c < counts.size(); ++c) {
    INFO("class " << c);
    CHECK(a[c] + b[c] == counts[c]);
    CHECK(std::abs(a[c] - b[c]) <= 1);
  }
  // The halves are within one image of each other in all.
  CHECK(std::abs(static_cast<int64_t>(s.first.size()) - static_cast<int64_t>(s.second.size())) <= 1);
  std::vector<int64_t> all = s.first;
  all.insert(all.end(), s.second.begin(), s.second.end());
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expect(labels.size());
  std::iota(expect.begin(), expect.end(), 0);
  CHECK(all == expect);  // disjoint and covering
  CHECK(std::is_sorted(s.first.begin(), s.first.end()));
  CHECK(std::is_sorted(s.second.begin(), s.second.end()));

  const IndexSplit again = stratified_split(labels, 10, 0.5, 1);
  CHECK(again.first == s.first);
  const IndexSplit other = stratified_split(labels, 10, 0.5, 2);
  CHECK(other.first != s.first);
  CHECK(counts_of(other.first, labels, 10) != std::vector<int64_t>{});
  // Not the first half by position: class-ordered labels would give classes 0..2 only.
  CHECK(a[9] > 0);
}

TEST_CASE("a fractional split takes floor or ceil of the share of every class", "[split]") {
  const std::vector<int64_t> counts = {101, 55, 9, 40, 17};
  const std::vector<int32_t> labels = labels_in_class_order(counts);
  const IndexSplit s = stratified_split(labels, 5, 0.1, 7);
  const auto a = counts_of(s.first, labels, 5);
  for (size_t c = 0; c < counts.size(); ++c) {
    const double share = 0.1 * static_cast<double>(counts[c]);
    CHECK(a[c] >= static_cast<int64_t>(std::floor(share)));
    CHECK(a[c] <= static_cast<int64_t>(std::ceil(share)));
  }
  CHECK(static_cast<int64_t>(s.first.size()) == std::llround(0.1 * labels.size()));
  CHECK_THROWS_WITH(stratified_split({0, 1, 5}, 3, 0.5, 1), Catch::Contains("label 5 of image 2"));
}

TEST_CASE("a held-out validation split is never part of the training images", "[split]") {
  std::vector<int32_t> labels = labels_in_class_order({300, 200, 101});
  const DataSplit data = numbered(labels, 3);
  ValidationSplit v;
  v.fraction = 0.2;
  v.seed = 5;
  const HeldOut h = hold_out_validation(data, v);
  CHECK(v.train_images == 601);  // recorded by the first use
  CHECK(h.validation.size() == 120);
  CHECK(h.train.size() == 481);
  const std::set<int> t = ids(h.train), val = ids(h.validation);
  CHECK(t.size() == 481);
  for (int i : val) CHECK(t.count(i) == 0);
  CHECK(t.size() + val.size() == 601);
  CHECK(class_counts(h.validation, 3) == std::vector<int64_t>{60, 40, 20});

  // What a run trains on is exactly the training part, and the same split
  // comes back from the recorded settings (resume, prune).
  ValidationSplit recorded = ValidationSplit::from_json(v.to_json());
  const DataSplit trained_on = without_validation(data, recorded);
  CHECK(ids(trained_on.train) == t);
  CHECK(ids(hold_out_validation(data, recorded).validation) == val);
  // Without a split the data is untouched.
  ValidationSplit none;
  CHECK(without_validation(data, none).train.size() == 601);
  // Another data set (another size) is refused rather than split differently.
  labels.pop_back();
  CHECK_THROWS_WITH(hold_out_validation(numbered(labels, 3), recorded),
                    Catch::Contains("has 600 training images, but the validation split was drawn from 601"));
}

TEST_CASE("evenly spaced images of a class-ordered set hold every class in its share", "[split]") {
  // Ten classes of 500 images in class order, as an image folder loads them;
  // --train-limit 1000 must not train on the first two classes only.
  const DataSplit d = numbered(labels_in_class_order(std::vector<int64_t>(10, 500)), 10);
  const Dataset picked = evenly_spaced(d.train, 1000);
  REQUIRE(picked.size() == 1000);
  CHECK(class_counts(picked, 10) == std::vector<int64_t>(10, 100));
  // In file order, each image once, the first one included.
  const std::set<int> got = ids(picked);
  CHECK(got.size() == 1000);
  CHECK(*got.begin() == 0);
  CHECK(picked.images[2] == 5);  // the second pick is image 5 (= 1 * 5000 / 1000)
  // All of them is the set itself; more than all is an error.
  CHECK(evenly_spaced(d.train, 5000).images == d.train.images);
  CHECK_THROWS_AS(evenly_spaced(d.train, 5001), Error);
  CHECK(evenly_spaced(d.train, 0).size() == 0);
}
