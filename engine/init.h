// Parameter initialisation, drawn from the context's Rng on the host and
// copied to the parameter's device (so CPU and GPU runs with one seed start
// from the same weights).
#pragma once

#include "engine/tensor.h"

namespace rotor {

// N(0, 2 / fan_in): He et al. (2015), PyTorch's kaiming_normal_(mode='fan_in').
void init_kaiming_normal(Context& ctx, Tensor& t, int64_t fan_in);
// U(-bound, bound).
void init_uniform(Context& ctx, Tensor& t, double bound);
// Type-I RReLU slopes: sign +-1 with equal odds, magnitude from N(1, variance
// 3) truncated to [tan 35deg, tan 55deg] = [0.7002, 1.4281].
void init_slopes_type1(Context& ctx, Tensor& t);

constexpr double slope_magnitude_min = 0.70020753820970977;  // tan(35 deg)
constexpr double slope_magnitude_max = 1.42814800674211450;  // tan(55 deg)

}  // namespace rotor
