// Batch assembly: gather images by index from a uint8 data set, augment and
// normalise them into a float batch, where the model runs.
//
// out[b, c, i, j] = (pixel - mean[c]) * inv_std[c], where the pixel is read
// from image indices[b] after a random crop from `pad` pixels of zero
// padding and a random horizontal flip (torchvision's RandomCrop(padding=pad,
// fill=0) then RandomHorizontalFlip). The random choices are a hash of
// (seed, epoch, data-set index) — see augment_choice — so the CPU and the GPU
// build identical batches.
#pragma once

#include <cstdint>

#include "engine/hash.h"

namespace rotor {
class Context;

struct AugmentSpec {
  static constexpr int max_channels = 4;
  int64_t c = 1, h = 0, w = 0;
  int pad = 0;        // crop offsets in [-pad, pad]; 0 = no crop
  bool flip = false;  // random horizontal flip
  uint64_t seed = 0, epoch = 0;
  float mean[max_channels] = {0, 0, 0, 0};
  float inv_std[max_channels] = {1, 1, 1, 1};
};

struct AugmentChoice {
  int dy, dx;  // source offset of the crop window
  bool flip;
};

ROTOR_HOST_DEVICE inline AugmentChoice augment_choice(const AugmentSpec& spec, int64_t index) {
  const uint64_t h = hash_u64(spec.seed, spec.epoch, static_cast<uint64_t>(index));
  const int span = 2 * spec.pad + 1;
  AugmentChoice a;
  a.dy = spec.pad ? static_cast<int>((h & 0xFFFF) % span) - spec.pad : 0;
  a.dx = spec.pad ? static_cast<int>(((h >> 16) & 0xFFFF) % span) - spec.pad : 0;
  a.flip = spec.flip && ((h >> 32) & 1);
  return a;
}

namespace cpu {
// images (N_all, C, H, W) uint8; labels (N_all); indices (batch) into them.
// Writes out (batch, C, H, W) and out_labels (batch).
void gather_batch(Context& ctx, const uint8_t* images, const int32_t* labels, const int32_t* indices,
                  int64_t batch, const AugmentSpec& spec, float* out, int32_t* out_labels);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void gather_batch(Context& ctx, const uint8_t* images, const int32_t* labels, const int32_t* indices,
                  int64_t batch, const AugmentSpec& spec, float* out, int32_t* out_labels);
}  // namespace cuda
#endif

}  // namespace rotor
