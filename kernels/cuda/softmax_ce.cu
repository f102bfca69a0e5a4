// CUDA softmax cross-entropy and accuracy counting (kernels/softmax_ce.h).
//
// One warp per row of logits (max, sum of exponentials, the label's term).
// The forward writes per-row losses to the workspace, then a single block
// adds them in a fixed order (double) and writes the mean to loss[0] on the
// device: deterministic, no float atomics, no host synchronisation. The
// backward reads dloss from device memory. count_correct adds to a device
// int64 (integer atomics: exact, so the order does not matter).
//
// The tallies (the mean of the row losses, the per-warp argmax and the
// per-block count of hits) are plumbing, not the point of the file: they use
// CUB (cub_include.cuh), whose BlockReduce/WarpReduce combine in a fixed
// tree for a fixed block size, so the loss still repeats bit for bit. The
// row softmax keeps its butterfly: every lane needs the row's max and sum,
// and a CUB reduction leaves them in lane 0 only.
#include <cfloat>

#include "kernels/cuda/cub_include.cuh"
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/softmax_ce.h"

namespace rotor::cuda {
namespace {

using namespace detail;

struct RowSoftmax {
  float max, sum;  // max of the row and sum of exp(v - max)
};

// Called by all 32 lanes of a warp for one row; every lane gets the result.
__device__ __forceinline__ RowSoftmax row_softmax(const float* __restrict__ row, uint32_t k) {
  const uint32_t lane = threadIdx.x & 31;
  float mx = -FLT_MAX;
  for (uint32_t j = lane; j < k; j += 32) mx = fmaxf(mx, row[j]);
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) mx = fmaxf(mx, __shfl_xor_sync(full_mask, mx, offset));
  float sum = 0.0f;
  for (uint32_t j = lane; j < k; j += 32) sum += expf(row[j] - mx);
  return {mx, warp_sum(sum)};
}

__global__ void __launch_bounds__(block_threads)
    softmax_ce_rows(const float* __restrict__ logits, const int32_t* __restrict__ labels, uint32_t n, uint32_t k,
                    float* __restrict__ row_loss) {
  const uint32_t row = blockIdx.x * warps_per_block + (threadIdx.x >> 5);
  if (row >= n) return;  // whole warps leave together
  const float* p = logits + row * k;
  const RowSoftmax s = row_softmax(p, k);
  const int32_t label = labels[row];
  // An out-of-range label reads nothing past the row: its loss is NaN, which
  // reaches the host with the loss the trainer reads back (kernels/softmax_ce.h).
  if ((threadIdx.x & 31) == 0)
    row_loss[row] = (label >= 0 && static_cast<uint32_t>(label) < k) ? logf(s.sum) + s.max - p[label] : nanf("");
}

__global__ void __launch_bounds__(block_threads)
    softmax_ce_mean(const float* __restrict__ row_loss, uint32_t n, float* __restrict__ loss) {
  using BlockSum = cub::BlockReduce<double, block_threads>;
  __shared__ typename BlockSum::TempStorage temp;
  double total = 0.0;
  for (uint32_t i = threadIdx.x; i < n; i += block_threads) total += row_loss[i];
  total = BlockSum(temp).Sum(total);  // valid in thread 0 only
  if (threadIdx.x == 0) loss[0] = static_cast<float>(total / n);
}

__global__ void __launch_bounds__(block_threads)
    softmax_ce_backward_kernel(const float* __restrict__ logits, const int32_t* __restrict__ labels, uint32_t n,
                               uint32_t k, const float* __restrict__ dloss, float* __restrict__ dlogits,
                               bool accumulate) {
  const uint32_t row = blockIdx.x * warps_per_block + (threadIdx.x >> 5);
  if (row >= n) return;
  const float* p = logits + row * k;
  float* out = dlogits + row * k;
  const RowSoftmax s = row_softmax(p, k);
  const double scale = static_cast<double>(dloss[0]) / n;
  const uint32_t label = static_cast<uint32_t>(labels[row]);  // a negative label wraps past k
  const bool valid = label < k;
  for (uint32_t j = threadIdx.x & 31; j < k; j += 32) {
    const float prob = expf(p[j] - s.max) / s.sum;
    const float g = valid ? static_cast<float>(scale * (static_cast<double>(prob) - (j == label ? 1.0 : 0.0)))
                          : nanf("");
    out[j] = accumulate ? __fadd_rn(out[j], g) : g;
  }
}

// A candidate for a row's argmax; index UINT32_MAX: none yet.
struct Best {
  float value;
  uint32_t index;
};

// The first maximum, as std::max_element: a strictly greater value wins,
// equal values go to the lower index (the order CUB combines lanes in does
// not matter).
struct FirstMax {
  __device__ __forceinline__ Best operator()(const Best& a, const Best& b) const {
    if (b.index == UINT32_MAX) return a;
    if (a.index == UINT32_MAX || b.value > a.value || (b.value == a.value && b.index < a.index)) return b;
    return a;
  }
};

__global__ void __launch_bounds__(block_threads)
    count_correct_kernel(const float* __restrict__ logits, const int32_t* __restrict__ labels, uint32_t n,
                         uint32_t k, unsigned long long* __restrict__ correct) {
  using WarpArgmax = cub::WarpReduce<Best>;
  using BlockSum = cub::BlockReduce<unsigned, block_threads>;
  __shared__ typename WarpArgmax::TempStorage warp_temp[warps_per_block];
  __shared__ typename BlockSum::TempStorage block_temp;
  const uint32_t row = blockIdx.x * warps_per_block + (threadIdx.x >> 5), lane = threadIdx.x & 31;
  unsigned hit = 0;
  if (row < n) {  // warp-uniform
    const float* p = logits + row * k;
    Best best{0.0f, UINT32_MAX};
    for (uint32_t j = lane; j < k; j += 32) best = FirstMax{}(best, Best{p[j], j});
    best = WarpArgmax(warp_temp[threadIdx.x >> 5]).Reduce(best, FirstMax{});  // valid in lane 0 only
    hit = (lane == 0 && best.index == static_cast<uint32_t>(labels[row])) ? 1u : 0u;
  }
  const unsigned total = BlockSum(block_temp).Sum(hit);  // valid in thread 0 only
  if (threadIdx.x == 0 && total > 0) atomicAdd(correct, static_cast<unsigned long long>(total));
}

void check(int64_t n, int64_t k, const char* op) {
  ROTOR_CUDA_REQUIRE(n >= 1 && k >= 1 && n * k <= max_index, op, "logits must be non-empty with fewer than 2^31 values");
}

unsigned row_blocks(int64_t n) { return static_cast<unsigned>((n + warps_per_block - 1) / warps_per_block); }

}  // namespace

void softmax_cross_entropy_forward(Context& ctx, int64_t n, int64_t k, const float* logits, const int32_t* labels,
                                   float* loss) {
  check(n, k, "softmax_cross_entropy_forward");
  float* row_loss = workspace_as<float>(ctx, static_cast<size_t>(n));  // (N)
  const cudaStream_t st = stream_of(ctx);
  softmax_ce_rows<<<row_blocks(n), block_threads, 0, st>>>(logits, labels, static_cast<uint32_t>(n),
                                                           static_cast<uint32_t>(k), row_loss);
  ROTOR_CUDA_CHECK_LAUNCH();
  softmax_ce_mean<<<1, block_threads, 0, st>>>(row_loss, static_cast<uint32_t>(n), loss);
  ROTOR_CUDA_CHECK_LAUNCH();
}

void softmax_cross_entropy_backward(Context& ctx, int64_t n, int64_t k, const float* logits, const int32_t* labels,
                                    const float* dloss, float* dlogits, GradMode mode) {
  if (!dlogits) return;
  check(n, k, "softmax_cross_entropy_backward");
  softmax_ce_backward_kernel<<<row_blocks(n), block_threads, 0, stream_of(ctx)>>>(
      logits, labels, static_cast<uint32_t>(n), static_cast<uint32_t>(k), dloss, dlogits,
      mode == GradMode::accumulate);
  ROTOR_CUDA_CHECK_LAUNCH();
}

void count_correct(Context& ctx, int64_t n, int64_t k, const float* logits, const int32_t* labels,
                   int64_t* correct) {
  check(n, k, "count_correct");
  static_assert(sizeof(unsigned long long) == sizeof(int64_t));
  count_correct_kernel<<<row_blocks(n), block_threads, 0, stream_of(ctx)>>>(
      logits, labels, static_cast<uint32_t>(n), static_cast<uint32_t>(k),
      reinterpret_cast<unsigned long long*>(correct));
  ROTOR_CUDA_CHECK_LAUNCH();
}

}  // namespace rotor::cuda
