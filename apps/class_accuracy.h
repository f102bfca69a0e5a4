// Accuracy per class: what rotor prune records for the images it chooses
// gamma on and reports on, and what rotor eval can print, so that a model
// that is good on some classes and poor on others shows it.
//
// Predictions are the first maximum of each row of logits, as the device's
// count_correct takes them, so the overall accuracy here equals evaluate()'s.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "apps/trainer.h"
#include "engine/json.h"

namespace rotor {

struct ClassAccuracy {
  std::vector<int64_t> correct, total;  // (classes)
  double loss_sum = 0;                  // cross-entropy summed over the images

  explicit ClassAccuracy(int64_t classes = 0)
      : correct(static_cast<size_t>(classes), 0), total(static_cast<size_t>(classes), 0) {}
  int64_t classes() const { return static_cast<int64_t>(total.size()); }
  int64_t count() const;
  double accuracy() const;     // over every image; 0 when there is none
  double of(int64_t c) const;  // of class c; 0 when it has no image
  double loss() const;         // mean cross-entropy
  // Adds a batch: logits (n, classes) row-major, labels (n).
  void add(const std::vector<float>& logits, const std::vector<int32_t>& labels);
};

// Accuracy of `model` on `data` per class, in evaluation mode.
// progress(images_done) is called after every batch.
using EvalProgress = std::function<void(int64_t images_done)>;
ClassAccuracy evaluate_by_class(Context& ctx, Model& model, const DeviceDataset& data, int64_t batch,
                                const EvalProgress& progress = {});

// {"acc": overall, "images": N, "classes": [{"class": name, "images": n, "acc": a}, ...]}
Json class_accuracy_json(const ClassAccuracy& a, const std::vector<std::string>& class_names);
// One line per class: "  airplane      1000 images  61.20%".
std::string class_accuracy_table(const ClassAccuracy& a, const std::vector<std::string>& class_names);

}  // namespace rotor
