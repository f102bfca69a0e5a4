// Seeded, class-stratified splits of a data set's images, and the validation
// split a training run holds out of its training images.
//
// Loaders return images in file order, and image folders in class order, so
// a split by position (first half / second half) can put whole classes on one
// side. Every split here instead shuffles each class's images with a seeded
// generator and deals them out by class, so each part has the class mix of
// the whole (per-class counts within one of the exact share) and the same
// seed and labels always give the same parts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "engine/json.h"

namespace rotor {

// Two disjoint parts of [0, labels.size()) that together cover it, each in
// ascending order. Class c's n_c images are shuffled (seeded) and the first
// k_c go to `first`, with k_c = round(f·(n_0+..+n_c)) - round(f·(n_0+..+n_{c-1})):
// k_c is floor or ceil of f·n_c, and `first` holds round(f·N) images in all.
// With f = 0.5 the two parts' counts of every class differ by at most one.
struct IndexSplit {
  std::vector<int64_t> first, second;
};
IndexSplit stratified_split(const std::vector<int32_t>& labels, int64_t classes, double first_fraction, uint64_t seed);

// The images of `d` at `indices`, in that order.
Dataset subset(const Dataset& d, const std::vector<int64_t>& indices);

// n images of `d` spread evenly over it (image floor(i * size / n) for
// i = 0..n-1), in file order. Image folders load class by class, so the
// first n images would be one or two classes; evenly spaced ones hold every
// class in its share (±1 when the classes are equal in size). n <= size.
Dataset evenly_spaced(const Dataset& d, int64_t n);

// How many images of each class `d` holds.
std::vector<int64_t> class_counts(const Dataset& d, int64_t classes);

// The validation split of a training run (rotor train --val-split): a
// stratified share of the data set's training images, drawn with `seed`,
// that the run never trains on. Recorded in run.json and in the model file's
// provenance so that rotor prune can rebuild the identical split.
struct ValidationSplit {
  double fraction = 0;  // 0: none
  uint64_t seed = 1;
  int64_t train_images = 0;  // size of the full training set it is drawn from (0: not yet known)

  bool enabled() const { return fraction > 0; }
  Json to_json() const;
  static ValidationSplit from_json(const Json& j);  // names the bad field
};

// The training images split into the part a run trains on and the held-out
// validation part; `data` names the data set in errors. The first call of a
// run records v.train_images; later ones (resume, prune) require the data to
// have that many training images, so a different data set is refused.
struct HeldOut {
  Dataset train, validation;
};
HeldOut hold_out_validation(const DataSplit& data, ValidationSplit& v);

// `data` with its training images reduced to the part the run trains on (no
// change when v is disabled).
DataSplit without_validation(DataSplit data, ValidationSplit& v);

}  // namespace rotor
