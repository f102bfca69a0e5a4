// Softmax cross-entropy averaged over the batch, and accuracy counting.
//
//   forward   loss[0] = mean_n -log softmax(logits[n])[labels[n]]
//   backward  dlogits = dloss[0] * (softmax(logits) - onehot(labels)) / N  [mode]
//   count_correct  *correct += number of rows whose argmax (first maximum)
//                  is the label
// logits (N, K) row-major, labels (N) int32. A label outside [0, K) never
// indexes past its row: the CPU versions throw naming the sample; the CUDA
// forward makes that row's loss (hence loss[0]) NaN and the backward that
// row's gradient NaN, which the trainer's non-finite-loss guard reports
// where it reads the loss back (no host synchronisation per step);
// count_correct counts such a row as wrong.
// loss, dloss and correct live on the op's device: the CUDA versions then
// need no host synchronisation inside a training step.
#pragma once

#include <cstdint>

#include "kernels/shapes.h"

namespace rotor {
class Context;

namespace cpu {
template <class T>
void softmax_cross_entropy_forward(Context& ctx, int64_t n, int64_t k, const T* logits, const int32_t* labels,
                                   T* loss);
template <class T>
void softmax_cross_entropy_backward(Context& ctx, int64_t n, int64_t k, const T* logits, const int32_t* labels,
                                    const T* dloss, T* dlogits, GradMode mode);
template <class T>
void count_correct(Context& ctx, int64_t n, int64_t k, const T* logits, const int32_t* labels, int64_t* correct);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void softmax_cross_entropy_forward(Context& ctx, int64_t n, int64_t k, const float* logits, const int32_t* labels,
                                   float* loss);
void softmax_cross_entropy_backward(Context& ctx, int64_t n, int64_t k, const float* logits,
                                    const int32_t* labels, const float* dloss, float* dlogits, GradMode mode);
void count_correct(Context& ctx, int64_t n, int64_t k, const float* logits, const int32_t* labels,
                   int64_t* correct);
}  // namespace cuda
#endif

}  // namespace rotor
