#include "apps/class_accuracy.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "engine/context.h"
#include "engine/ops.h"
#include "engine/tensor_util.h"

namespace rotor {

int64_t ClassAccuracy::count() const { return std::accumulate(total.begin(), total.end(), int64_t{0}); }

double ClassAccuracy::accuracy() const {
  const int64_t n = count();
  return n == 0 ? 0.0
                : static_cast<double>(std::accumulate(correct.begin(), correct.end(), int64_t{0})) /
                      static_cast<double>(n);
}

double ClassAccuracy::of(int64_t c) const {
  const int64_t n = total.at(static_cast<size_t>(c));
  return n == 0 ? 0.0 : static_cast<double>(correct[static_cast<size_t>(c)]) / static_cast<double>(n);
}

double ClassAccuracy::loss() const {
  const int64_t n = count();
  return n == 0 ? 0.0 : loss_sum / static_cast<double>(n);
}

void ClassAccuracy::add(const std::vector<float>& logits, const std::vector<int32_t>& labels) {
  const int64_t k = classes(), n = static_cast<int64_t>(labels.size());
  ROTOR_CHECK(static_cast<int64_t>(logits.size()) == n * k, "class accuracy: {} logits for {} images of {} classes",
              logits.size(), n, k);
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits.data() + i * k;
    const int64_t predicted = std::max_element(row, row + k) - row;  // the first maximum
    const int32_t y = labels[static_cast<size_t>(i)];
    ROTOR_CHECK(y >= 0 && y < k, "class accuracy: label {} is not in [0, {})", y, k);
    ++total[static_cast<size_t>(y)];
    correct[static_cast<size_t>(y)] += predicted == y;
  }
}

ClassAccuracy evaluate_by_class(Context& ctx, Model& model, const DeviceDataset& data, int64_t batch,
                                const EvalProgress& progress) {
  const ModelSpec& spec = model.spec();
  ROTOR_CHECK(data.channels == spec.in_channels && data.height == spec.height && data.width == spec.width,
              "the data's images are {}x{}x{} but the model {} expects {}x{}x{}", data.channels, data.height,
              data.width, spec.arch, spec.in_channels, spec.height, spec.width);
  ROTOR_CHECK(batch >= 1, "evaluation batch size {} is below 1", batch);
  const AugmentSpec aug = augment_spec(spec, false, 0, 0, 0);
  Tensor order = Tensor::host({data.size}, DType::i32);
  std::iota(order.data<int32_t>(), order.data<int32_t>() + data.size, 0);
  const Tensor indices = to_device(ctx, order, ctx.device());
  const Tensor host_labels = to_host(ctx, data.labels);
  const int32_t* all_labels = host_labels.data<int32_t>();
  ClassAccuracy acc(spec.classes);
  for (int64_t begin = 0; begin < data.size; begin += batch) {
    const int64_t end = std::min(data.size, begin + batch);
    Tensor x = Tensor::empty(ctx, {end - begin, spec.in_channels, spec.height, spec.width});
    Tensor y = Tensor::empty(ctx, {end - begin}, DType::i32);
    assemble_batch(ctx, data.images, data.labels, indices.slice(begin, end), aug, x, y);
    Graph g(ctx, false);
    Var logits = model.forward(g, make_var(x));
    Var loss = softmax_cross_entropy(g, logits, y);
    acc.add(host_values(ctx, logits->value), std::vector<int32_t>(all_labels + begin, all_labels + end));
    acc.loss_sum += static_cast<double>(host_values(ctx, loss->value)[0]) * static_cast<double>(end - begin);
    if (progress) progress(end);
  }
  return acc;
}

static std::string class_name(const std::vector<std::string>& names, int64_t c) {
  return c < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(c)] : std::to_string(c);
}

Json class_accuracy_json(const ClassAccuracy& a, const std::vector<std::string>& class_names) {
  Json j = Json::object();
  j.set("acc", a.accuracy());
  j.set("images", a.count());
  Json classes = Json::array();
  for (int64_t c = 0; c < a.classes(); ++c) {
    Json cj = Json::object();
    cj.set("class", class_name(class_names, c));
    cj.set("images", a.total[static_cast<size_t>(c)]);
    cj.set("acc", a.of(c));
    classes.push(cj);
  }
  j.set("classes", classes);
  return j;
}

std::string class_accuracy_table(const ClassAccuracy& a, const std::vector<std::string>& class_names) {
  size_t width = 5;
  for (int64_t c = 0; c < a.classes(); ++c) width = std::max(width, class_name(class_names, c).size());
  std::string out;
  for (int64_t c = 0; c < a.classes(); ++c)
    out += fmt::format("  {:<{}}  {:>7} images  {:6.2f}%\n", class_name(class_names, c), width,
                       a.total[static_cast<size_t>(c)], 100 * a.of(c));
  return out;
}

}  // namespace rotor
