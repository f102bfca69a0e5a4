#include "kernels/softmax_ce.h"

#include <algorithm>
#include <cmath>

#include "engine/context.h"
#include "engine/error.h"

namespace rotor::cpu {
namespace {

// A label outside [0, k) would index past its row of logits.
void check_labels(int64_t n, int64_t k, const int32_t* labels, const char* op) {
  for (int64_t i = 0; i < n; ++i)
    ROTOR_CHECK(labels[i] >= 0 && labels[i] < k, "{}: sample {} of the batch has label {}, outside the {} classes "
                                                 "[0, {})",
                op, i, labels[i], k, k);
}

}  // namespace

template <class T>
void softmax_cross_entropy_forward(Context&, int64_t n, int64_t k, const T* logits, const int32_t* labels,
                                   T* loss) {
  check_labels(n, k, labels, "softmax_cross_entropy");
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T* row = logits + i * k;
    const double mx = *std::max_element(row, row + k);
    double sum = 0;
    for (int64_t j = 0; j < k; ++j) sum += std::exp(row[j] - mx);
    total += std::log(sum) + mx - row[labels[i]];
  }
  loss[0] = static_cast<T>(total / static_cast<double>(n));
}

template <class T>
void softmax_cross_entropy_backward(Context&, int64_t n, int64_t k, const T* logits, const int32_t* labels,
                                    const T* dloss, T* dlogits, GradMode mode) {
  check_labels(n, k, labels, "softmax_cross_entropy backward");
  if (!dlogits) return;  // not wanted (kernels/shapes.h), as the CUDA twin
  const double scale = static_cast<double>(dloss[0]) / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) {
    const T* row = logits + i * k;
    T* out = dlogits + i * k;
    const double mx = *std::max_element(row, row + k);
    double sum = 0;
    for (int64_t j = 0; j < k; ++j) sum += std::exp(row[j] - mx);
    for (int64_t j = 0; j < k; ++j) {
      const double p = std::exp(row[j] - mx) / sum;
      const T g = static_cast<T>(scale * (p - (j == labels[i] ? 1.0 : 0.0)));
      out[j] = mode == GradMode::accumulate ? out[j] + g : g;
    }
  }
}

template <class T>
void count_correct(Context&, int64_t n, int64_t k, const T* logits, const int32_t* labels, int64_t* correct) {
  for (int64_t i = 0; i < n; ++i) {
    const T* row = logits + i * k;
    *correct += (std::max_element(row, row + k) - row) == labels[i];
  }
}

#define ROTOR_INSTANTIATE_SOFTMAX_CE(T)                                                                      \
  template void softmax_cross_entropy_forward<T>(Context&, int64_t, int64_t, const T*, const int32_t*, T*); \
  template void softmax_cross_entropy_backward<T>(Context&, int64_t, int64_t, const T*, const int32_t*,     \
                                                  const T*, T*, GradMode);                                   \
  template void count_correct<T>(Context&, int64_t, int64_t, const T*, const int32_t*, int64_t*);
ROTOR_INSTANTIATE_SOFTMAX_CE(float)
ROTOR_INSTANTIATE_SOFTMAX_CE(double)

}  // namespace rotor::cpu
