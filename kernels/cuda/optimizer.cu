// CUDA optimizer updates (kernels/optimizer.h): SGD (momentum, Nesterov)
// and Adam over a whole parameter group in one launch, each zeroing the
// gradients it reads (no fill launch per parameter after the step).
//
// The group's tensors travel BY VALUE in the kernel parameters (up to
// max_slots per launch; a larger group takes a few launches), each with the
// index of its first block, so no pointer table is copied to the device and
// the launch can be captured in a graph. Block b finds its tensor by binary
// search over those indices and updates a run of 1024 elements.
//
// Design decision: the arithmetic is the CPU's, operation by operation in
// the same order, with the _rn intrinsics so nvcc fuses nothing into FMAs;
// sqrt and division are IEEE on both sides. CPU and GPU updates therefore
// agree bit for bit on the same inputs.
//
// With scalars_dev (a step replayed from a CUDA graph) the rate and step
// come from device memory instead of the arguments: the same floats, read
// once per thread (kernels/optimizer.h).
#include <cmath>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/optimizer.h"

namespace rotor::cuda {
namespace {

using namespace detail;

constexpr int max_slots = 64;  // 64 * 40 bytes: well inside the 4 KB of kernel parameters
constexpr uint32_t block_elems = block_threads * 4;

struct Slot {
  float* param;
  float* grad;  // read, then zeroed
  float* state1;
  float* state2;
  uint32_t n;
  uint32_t first_block;
};

struct SlotBatch {
  Slot slot[max_slots];
  int count;
};

// The slot whose blocks include block b: the last one with first_block <= b
// (empty tensors own no blocks and are skipped).
__device__ __forceinline__ int find_slot(const SlotBatch& batch, uint32_t b) {
  int lo = 0, hi = batch.count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (batch.slot[mid].first_block <= b) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

struct SgdArgs {
  float lr, momentum, weight_decay;
  bool use_momentum, nesterov, first_step;
};

__global__ void __launch_bounds__(block_threads)
    sgd_kernel(const SlotBatch batch, const SgdArgs h, const UpdateScalars* __restrict__ scalars_dev) {
  const Slot s = batch.slot[find_slot(batch, blockIdx.x)];
  const float lr = scalars_dev ? scalars_dev->lr : h.lr;
  const bool first_step = scalars_dev ? scalars_dev->first_step != 0.0f : h.first_step;
  const uint32_t begin = (blockIdx.x - s.first_block) * block_elems, end = min(begin + block_elems, s.n);
  for (uint32_t i = begin + threadIdx.x; i < end; i += block_threads) {
    const float p = s.param[i];
    float g = __fadd_rn(s.grad[i], __fmul_rn(h.weight_decay, p));
    s.grad[i] = 0.0f;
    if (h.use_momentum) {
      const float buf = first_step ? g : __fadd_rn(__fmul_rn(h.momentum, s.state1[i]), g);
      s.state1[i] = buf;
      g = h.nesterov ? __fadd_rn(g, __fmul_rn(h.momentum, buf)) : buf;
    }
    s.param[i] = __fsub_rn(p, __fmul_rn(lr, g));
  }
}

struct AdamArgs {
  float beta1, beta2, one_minus_beta1, one_minus_beta2, weight_decay, step_size, root_c2, eps;
};

__global__ void __launch_bounds__(block_threads)
    adam_kernel(const SlotBatch batch, const AdamArgs h, const UpdateScalars* __restrict__ scalars_dev) {
  const Slot s = batch.slot[find_slot(batch, blockIdx.x)];
  const float step_size = scalars_dev ? scalars_dev->step_size : h.step_size;
  const float root_c2 = scalars_dev ? scalars_dev->root_c2 : h.root_c2;
  const uint32_t begin = (blockIdx.x - s.first_block) * block_elems, end = min(begin + block_elems, s.n);
  for (uint32_t i = begin + threadIdx.x; i < end; i += block_threads) {
    const float p = s.param[i];
    const float g = __fadd_rn(s.grad[i], __fmul_rn(h.weight_decay, p));
    s.grad[i] = 0.0f;
    const float m = __fadd_rn(__fmul_rn(h.beta1, s.state1[i]), __fmul_rn(h.one_minus_beta1, g));
    const float v = __fadd_rn(__fmul_rn(h.beta2, s.state2[i]), __fmul_rn(__fmul_rn(h.one_minus_beta2, g), g));
    s.state1[i] = m;
    s.state2[i] = v;
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(v), root_c2), h.eps);
    s.param[i] = __fsub_rn(p, __fdiv_rn(__fmul_rn(step_size, m), denom));
  }
}

// Calls launch(batch, blocks) for each run of up to max_slots tensors.
template <class Launch>
void for_each_batch(const ParamSlot<float>* slots, int count, const char* op, const Launch& launch) {
  for (int first = 0; first < count; first += max_slots) {
    SlotBatch batch{};
    uint32_t blocks = 0;
    batch.count = std::min(max_slots, count - first);
    for (int t = 0; t < batch.count; ++t) {
      const ParamSlot<float>& p = slots[first + t];
      ROTOR_CUDA_REQUIRE(p.n >= 0 && p.n <= max_index, op, "a parameter has 2^31 or more elements");
      batch.slot[t] = Slot{p.param, p.grad, p.state1, p.state2, static_cast<uint32_t>(p.n), blocks};
      blocks += static_cast<uint32_t>((p.n + block_elems - 1) / block_elems);
    }
    if (blocks > 0) launch(batch, blocks);
  }
}

}  // namespace

void sgd_update(Context& ctx, const ParamSlot<float>* slots, int count, const SgdHyper& h) {
  sgd_update_reading(ctx, slots, count, h, nullptr);
}

void adam_update(Context& ctx, const ParamSlot<float>* slots, int count, const AdamHyper& h) {
  adam_update_reading(ctx, slots, count, h, nullptr);
}

void sgd_update_reading(Context& ctx, const ParamSlot<float>* slots, int count, const SgdHyper& h,
                        const UpdateScalars* scalars_dev) {
  // The CPU's float constants (kernels/cpu/optimizer.cpp).
  const SgdArgs args{static_cast<float>(h.lr), static_cast<float>(h.momentum), static_cast<float>(h.weight_decay),
                     h.momentum != 0, h.nesterov, h.first_step};
  for_each_batch(slots, count, "sgd_update", [&](const SlotBatch& batch, uint32_t blocks) {
    sgd_kernel<<<blocks, block_threads, 0, stream_of(ctx)>>>(batch, args, scalars_dev);
    ROTOR_CUDA_CHECK_LAUNCH();
  });
}

void adam_update_reading(Context& ctx, const ParamSlot<float>* slots, int count, const AdamHyper& h,
                         const UpdateScalars* scalars_dev) {
  const float b1 = static_cast<float>(h.beta1), b2 = static_cast<float>(h.beta2);
  const UpdateScalars step = update_scalars(h);
  const AdamArgs args{b1, b2, 1 - b1, 1 - b2, static_cast<float>(h.weight_decay), step.step_size, step.root_c2,
                      static_cast<float>(h.eps)};
  for_each_batch(slots, count, "adam_update", [&](const SlotBatch& batch, uint32_t blocks) {
    adam_kernel<<<blocks, block_threads, 0, stream_of(ctx)>>>(batch, args, scalars_dev);
    ROTOR_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace rotor::cuda
