#include "kernels/augment.h"

#include "engine/context.h"

namespace rotor::cpu {

void gather_batch(Context& ctx, const uint8_t* images, const int32_t* labels, const int32_t* indices,
                  int64_t batch, const AugmentSpec& spec, float* out, int32_t* out_labels) {
  const int64_t plane = spec.h * spec.w, image = spec.c * plane;
  ctx.pool().parallel_for(batch, [&](int64_t b0, int64_t b1, int) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t index = indices[b];
      out_labels[b] = labels[index];
      const AugmentChoice a = augment_choice(spec, index);
      const uint8_t* src = images + index * image;
      float* dst = out + b * image;
      for (int64_t c = 0; c < spec.c; ++c) {
        const float mean = spec.mean[c], inv_std = spec.inv_std[c];
        for (int64_t i = 0; i < spec.h; ++i)
          for (int64_t j = 0; j < spec.w; ++j) {
            const int64_t si = i + a.dy;
            const int64_t sj = (a.flip ? spec.w - 1 - j : j) + a.dx;
            const bool inside = si >= 0 && si < spec.h && sj >= 0 && sj < spec.w;
            const float pixel = inside ? src[c * plane + si * spec.w + sj] : 0.0f;
            dst[c * plane + i * spec.w + j] = (pixel - mean) * inv_std;
          }
      }
    }
  }, image);
}

}  // namespace rotor::cpu
