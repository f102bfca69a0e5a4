// Per-channel loops shared by the CPU batch_norm and bn_rrelu.
//
// Work is split across threads by channel ranges, and within a range the
// loops run n -> c -> hw, so memory is read in order both for images
// (large hw: contiguous rows) and for (N, C) activations (hw = 1: the
// channels of a sample are contiguous). Sums are accumulated in double, the
// variance in a second pass, so the reference is as exact as the data allows.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/context.h"
#include "kernels/shapes.h"

namespace rotor::cpu::detail {

// Calls body(n, c, base) for every (sample, channel) of channels [c0, c1),
// base being the offset of that (n, c) plane of hw values.
template <class Body>
void for_planes(const ChannelShape& s, int64_t c0, int64_t c1, const Body& body) {
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = c0; c < c1; ++c) body(n, c, (n * s.c + c) * s.hw);
}

// Sums of K terms over i in [0, n): term(i) returns std::array<double, K>.
// Four interleaved partial sums per term: one running double sum is bound by
// the add latency (about 4 cycles an element); four independent chains run
// several times faster and round no worse. The order is fixed, so the result
// is the same on every run.
template <int K, class Term>
std::array<double, K> plane_sums(int64_t n, const Term& term) {
  constexpr int lanes = 4;
  if (n < lanes) {
    // Short planes (hw = 1 for a (N, C) batch norm: one call per value)
    // skip the lane set-up, which would cost more than the sum.
    std::array<double, K> sum{};
    for (int64_t i = 0; i < n; ++i) {
      const std::array<double, K> t = term(i);
      for (int k = 0; k < K; ++k) sum[k] += t[k];
    }
    return sum;
  }
  double acc[lanes][K] = {};
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (int l = 0; l < lanes; ++l) {
      const std::array<double, K> t = term(i + l);
      for (int k = 0; k < K; ++k) acc[l][k] += t[k];
    }
  for (; i < n; ++i) {
    const std::array<double, K> t = term(i);
    for (int k = 0; k < K; ++k) acc[0][k] += t[k];
  }
  std::array<double, K> sum;
  for (int k = 0; k < K; ++k) sum[k] = (acc[0][k] + acc[1][k]) + (acc[2][k] + acc[3][k]);
  return sum;
}

// A batch norm reads each value two or three times and does double
// arithmetic on it: worth a few elements of a memory-bound loop each, which
// is what the pool's grain counts (so a 128 x 500 batch still splits).
constexpr int64_t kPassesPerValue = 4;

// Splits channels over the pool: body(c0, c1, scratch) where scratch has
// room for `per_channel` doubles for each channel of the range.
template <class Body>
void for_channel_ranges(Context& ctx, const ChannelShape& s, int per_channel, const Body& body) {
  ctx.pool().parallel_for(s.c, [&](int64_t c0, int64_t c1, int) {
    std::vector<double> scratch(static_cast<size_t>((c1 - c0) * per_channel), 0.0);
    body(c0, c1, scratch.data());
  }, kPassesPerValue * s.n * s.hw);
}

// mean[c - c0] and biased variance var[c - c0] of channels [c0, c1).
template <class T>
void channel_moments(const ChannelShape& s, const T* x, int64_t c0, int64_t c1, double* mean, double* var) {
  const double count = static_cast<double>(s.per_channel());
  for (int64_t c = c0; c < c1; ++c) mean[c - c0] = var[c - c0] = 0;
  for_planes(s, c0, c1, [&](int64_t, int64_t c, int64_t base) {
    mean[c - c0] += plane_sums<1>(s.hw, [&](int64_t i) { return std::array<double, 1>{double(x[base + i])}; })[0];
  });
  for (int64_t c = c0; c < c1; ++c) mean[c - c0] /= count;
  for_planes(s, c0, c1, [&](int64_t, int64_t c, int64_t base) {
    const double m = mean[c - c0];
    var[c - c0] += plane_sums<1>(s.hw, [&](int64_t i) {
      const double d = x[base + i] - m;
      return std::array<double, 1>{d * d};
    })[0];
  });
  for (int64_t c = c0; c < c1; ++c) var[c - c0] /= count;
}

// Writes save_mean/invstd of channel c and updates its running statistics.
template <class T>
void store_train_stats(const ChannelShape& s, int64_t c, double mean, double var_biased, double momentum, double eps,
                       T* running_mean, T* running_var, T* save_mean, T* save_invstd) {
  const double count = static_cast<double>(s.per_channel());
  save_mean[c] = static_cast<T>(mean);
  save_invstd[c] = static_cast<T>(1.0 / std::sqrt(var_biased + eps));
  if (running_mean) running_mean[c] = static_cast<T>((1 - momentum) * running_mean[c] + momentum * mean);
  if (running_var)
    running_var[c] = static_cast<T>((1 - momentum) * running_var[c] + momentum * var_biased * count / (count - 1));
}

// The training forward's per-channel work for channels [c0, c1): batch
// statistics, saved and running statistics, and the affine map
// z = x * scale + shift that normalises with them. tmp holds 4 doubles per
// channel of the range; scale and shift point into it.
template <class T>
void train_affine(const ChannelShape& s, const T* x, const T* gamma, const T* beta, T* running_mean, T* running_var,
                  double momentum, double eps, T* save_mean, T* save_invstd, int64_t c0, int64_t c1, double* tmp,
                  double** scale, double** shift) {
  const int64_t w = c1 - c0;
  double *mean = tmp, *var = tmp + w;
  *scale = tmp + 2 * w;
  *shift = tmp + 3 * w;
  channel_moments(s, x, c0, c1, mean, var);
  for (int64_t c = c0; c < c1; ++c) {
    store_train_stats(s, c, mean[c - c0], var[c - c0], momentum, eps, running_mean, running_var, save_mean,
                      save_invstd);
    (*scale)[c - c0] = gamma[c] / std::sqrt(var[c - c0] + eps);
    (*shift)[c - c0] = beta[c] - mean[c - c0] * (*scale)[c - c0];
  }
}

// The evaluation forward's affine map from the running statistics; tmp holds
// 2 doubles per channel of the range.
template <class T>
void eval_affine(const T* gamma, const T* beta, const T* running_mean, const T* running_var, double eps, int64_t c0,
                 int64_t c1, double* tmp, double** scale, double** shift) {
  *scale = tmp;
  *shift = tmp + (c1 - c0);
  for (int64_t c = c0; c < c1; ++c) {
    (*scale)[c - c0] = gamma[c] / std::sqrt(static_cast<double>(running_var[c]) + eps);
    (*shift)[c - c0] = beta[c] - running_mean[c] * (*scale)[c - c0];
  }
}

}  // namespace rotor::cpu::detail
