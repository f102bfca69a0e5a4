// Per-channel batch statistics shared by the CPU batch_norm and bn_rrelu.
// Accumulates in double (two passes: mean, then squared deviations) so the
// reference is as exact as the data allows.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/shapes.h"

namespace rotor::cpu::detail {

struct ChannelMoments {
  double mean = 0, var_biased = 0;
};

template <class T>
ChannelMoments channel_moments(const ChannelShape& s, const T* x, int64_t c) {
  const int64_t count = s.per_channel();
  double sum = 0;
  for (int64_t n = 0; n < s.n; ++n) {
    const T* p = x + (n * s.c + c) * s.hw;
    for (int64_t i = 0; i < s.hw; ++i) sum += p[i];
  }
  const double mean = sum / static_cast<double>(count);
  double sq = 0;
  for (int64_t n = 0; n < s.n; ++n) {
    const T* p = x + (n * s.c + c) * s.hw;
    for (int64_t i = 0; i < s.hw; ++i) sq += (p[i] - mean) * (p[i] - mean);
  }
  return {mean, sq / static_cast<double>(count)};
}

// Writes save_mean/invstd of channel c and updates its running statistics.
template <class T>
void store_train_stats(const ChannelShape& s, int64_t c, const ChannelMoments& m, double momentum, double eps,
                       T* running_mean, T* running_var, T* save_mean, T* save_invstd) {
  const double count = static_cast<double>(s.per_channel());
  save_mean[c] = static_cast<T>(m.mean);
  save_invstd[c] = static_cast<T>(1.0 / std::sqrt(m.var_biased + eps));
  if (running_mean) running_mean[c] = static_cast<T>((1 - momentum) * running_mean[c] + momentum * m.mean);
  if (running_var)
    running_var[c] =
        static_cast<T>((1 - momentum) * running_var[c] + momentum * m.var_biased * count / (count - 1));
}

}  // namespace rotor::cpu::detail
