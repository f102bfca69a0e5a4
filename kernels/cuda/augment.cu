// CUDA batch assembly (kernels/augment.h): gathers uint8 images by index,
// crops, flips and normalises them into a float batch on the device.
//
// The crop offsets and flip come from augment_choice(spec, index), the same
// host/device hash the CPU uses, and the arithmetic is the CPU's
// ((pixel - mean) * inv_std, two roundings), so the batch is bit-identical
// to cpu::gather_batch. Grid: (batch, pixels of one image / 256).
#include "kernels/augment.h"
#include "kernels/cuda/cuda_common.cuh"

namespace rotor::cuda {
namespace {

using namespace detail;

__global__ void __launch_bounds__(block_threads)
    gather_batch_kernel(const uint8_t* __restrict__ images, const int32_t* __restrict__ labels,
                        const int32_t* __restrict__ indices, AugmentSpec spec, FastDiv plane, FastDiv width,
                        float* __restrict__ out, int32_t* __restrict__ out_labels) {
  const uint32_t b = blockIdx.x;
  const int64_t index = indices[b];
  if (blockIdx.y == 0 && threadIdx.x == 0) out_labels[b] = labels[index];
  const uint32_t image = static_cast<uint32_t>(spec.c) * plane.divisor;  // values per image
  const uint32_t e = blockIdx.y * block_threads + threadIdx.x;
  if (e >= image) return;
  const AugmentChoice a = augment_choice(spec, index);
  uint32_t c, r, i, j;
  plane.divmod(e, c, r);
  width.divmod(r, i, j);
  const int w = static_cast<int>(width.divisor), h = static_cast<int>(plane.divisor / width.divisor);
  const int si = static_cast<int>(i) + a.dy;
  const int sj = (a.flip ? w - 1 - static_cast<int>(j) : static_cast<int>(j)) + a.dx;
  const bool inside = si >= 0 && si < h && sj >= 0 && sj < w;
  const uint8_t* src = images + index * static_cast<int64_t>(image);  // the data set may pass 2^31 bytes
  const float pixel = inside ? static_cast<float>(src[c * plane.divisor + si * w + sj]) : 0.0f;
  // Constant indices only: a run-time index into the parameter struct would
  // copy it to local memory in every thread.
  float mean = spec.mean[0], inv_std = spec.inv_std[0];
#pragma unroll
  for (int k = 1; k < AugmentSpec::max_channels; ++k)
    if (c == static_cast<uint32_t>(k)) {
      mean = spec.mean[k];
      inv_std = spec.inv_std[k];
    }
  out[static_cast<int64_t>(b) * image + e] = __fmul_rn(__fsub_rn(pixel, mean), inv_std);
}

}  // namespace

void gather_batch(Context& ctx, const uint8_t* images, const int32_t* labels, const int32_t* indices,
                  int64_t batch, const AugmentSpec& spec, float* out, int32_t* out_labels) {
  if (batch == 0) return;
  const int64_t image = spec.c * spec.h * spec.w;
  ROTOR_CUDA_REQUIRE(image >= 1 && batch * image <= max_index && image <= 65535 * block_threads, "gather_batch",
                     "the batch must have fewer than 2^31 values and images fewer than 2^24");
  const dim3 grid(static_cast<unsigned>(batch), static_cast<unsigned>((image + block_threads - 1) / block_threads));
  gather_batch_kernel<<<grid, block_threads, 0, stream_of(ctx)>>>(
      images, labels, indices, spec, FastDiv(static_cast<uint32_t>(spec.h * spec.w)),
      FastDiv(static_cast<uint32_t>(spec.w)), out, out_labels);
  ROTOR_CUDA_CHECK_LAUNCH();
}

}  // namespace rotor::cuda
