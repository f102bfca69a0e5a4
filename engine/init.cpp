#include "engine/init.h"

#include <cmath>
#include <vector>

#include "engine/context.h"
#include "engine/tensor_util.h"

namespace rotor {

template <class Draw>
static void init_with(Context& ctx, Tensor& t, Draw draw) {
  std::vector<float> values(static_cast<size_t>(t.numel()));
  for (float& v : values) v = static_cast<float>(draw(ctx.rng()));
  Tensor host = Tensor::host(t.shape());
  std::copy(values.begin(), values.end(), host.f32());
  copy(ctx, host, t);
}

void init_kaiming_normal(Context& ctx, Tensor& t, int64_t fan_in) {
  const double std = std::sqrt(2.0 / static_cast<double>(fan_in));
  init_with(ctx, t, [std](Rng& rng) { return std * rng.normal(); });
}

void init_uniform(Context& ctx, Tensor& t, double bound) {
  init_with(ctx, t, [bound](Rng& rng) { return (2 * rng.uniform() - 1) * bound; });
}

void init_slopes_type1(Context& ctx, Tensor& t) {
  const double sd = std::sqrt(3.0);
  init_with(ctx, t, [sd](Rng& rng) {
    const double sign = rng.uniform() < 0.5 ? -1.0 : 1.0;
    for (;;) {  // rejection sampling; accepts about one draw in six
      const double m = 1.0 + sd * rng.normal();
      if (m >= slope_magnitude_min && m <= slope_magnitude_max) return sign * m;
    }
  });
}

}  // namespace rotor
