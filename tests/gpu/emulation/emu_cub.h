// A model of the CUB primitives that kernels/cuda/*.cu use (through
// kernels/cuda/cub_include.cuh), for the CPU emulation: g++ cannot compile
// CUB itself. Only what the kernels use is modelled; anything else fails to
// compile here, which is the point: a new primitive gets a model first.
//
// Modelled faithfully, so that misuse fails here as it would on a GPU:
//  - TempStorage is a type the kernel places in __shared__ (static here);
//    BlockReduce writes it and syncs once, and does not sync after reading
//    it, so reusing it without a __syncthreads is a race (ThreadSanitizer,
//    run.sh tsan) as with CUB.
//  - The result is valid in thread 0 (BlockReduce) or lane 0 (WarpReduce)
//    only; every other thread gets garbage (NaN for floating point, 0xA5
//    bytes otherwise), so a kernel that reads it elsewhere fails its test.
//  - The combining order is CUB's default (BLOCK_REDUCE_WARP_REDUCTIONS,
//    WarpReduceShfl) for full warps: within a warp a shuffle-down tree with
//    offsets 1, 2, 4, 8, 16 (lane i combines op(own, lane i + offset)), then
//    thread 0 combines the warp aggregates in warp order. Floating-point
//    sums therefore round as on the GPU, and are deterministic.
//  - BlockReduce's BLOCK_DIM_X must equal the launch's blockDim.x (CUB
//    assumes it; here a mismatch aborts naming both).
// Requires cuda_emu.h (force-included first by run.sh).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>

namespace cub {

enum BlockReduceAlgorithm { BLOCK_REDUCE_RAKING_COMMUTATIVE_ONLY, BLOCK_REDUCE_RAKING, BLOCK_REDUCE_WARP_REDUCTIONS };

namespace emu_detail {

// What a thread other than 0 holds after a reduction: not the result.
template <class T>
T garbage() {
  if constexpr (std::is_floating_point_v<T>) {
    return std::numeric_limits<T>::quiet_NaN();
  } else {
    static_assert(std::is_trivially_copyable_v<T>);
    T t;
    std::memset(static_cast<void*>(&t), 0xA5, sizeof t);
    return t;
  }
}

// Lane 0's result of WarpReduceShfl over the 32 values v[0..32): at offset
// s, lane i (a multiple of 2s) combines op(v[i], v[i + s]).
template <class T, class Op>
T warp_tree(const T* v, Op op) {
  T x[32];
  for (int i = 0; i < 32; ++i) x[i] = v[i];
  for (int s = 1; s < 32; s *= 2)
    for (int i = 0; i + s < 32; i += 2 * s) x[i] = op(x[i], x[i + s]);
  return x[0];
}

struct Plus {
  template <class T>
  T operator()(const T& a, const T& b) const {
    return a + b;
  }
};

}  // namespace emu_detail

template <class T, int BLOCK_DIM_X, BlockReduceAlgorithm ALGORITHM = BLOCK_REDUCE_WARP_REDUCTIONS,
          int BLOCK_DIM_Y = 1, int BLOCK_DIM_Z = 1>
class BlockReduce {
  static_assert(BLOCK_DIM_Y == 1 && BLOCK_DIM_Z == 1, "emu_cub: 1-D blocks only");
  static_assert(BLOCK_DIM_X % 32 == 0, "emu_cub: whole warps only");
  static_assert(ALGORITHM == BLOCK_REDUCE_WARP_REDUCTIONS, "emu_cub: only the default algorithm is modelled");

 public:
  struct TempStorage {
    T slot[BLOCK_DIM_X];
  };

  explicit BlockReduce(TempStorage& storage) : storage_(storage) {
    if (blockDim.x != BLOCK_DIM_X) {
      std::fprintf(stderr, "emu_cub: BlockReduce<%d threads> in a block of %u threads\n", BLOCK_DIM_X, blockDim.x);
      std::abort();
    }
  }

  T Sum(T v) { return Reduce(v, emu_detail::Plus{}); }

  // Must be called by every thread of the block; valid in thread 0.
  template <class Op>
  T Reduce(T v, Op op) {
    storage_.slot[threadIdx.x] = v;
    __syncthreads();
    if (threadIdx.x != 0) return emu_detail::garbage<T>();
    T total = emu_detail::warp_tree(storage_.slot, op);
    for (int w = 1; w < BLOCK_DIM_X / 32; ++w) total = op(total, emu_detail::warp_tree(storage_.slot + 32 * w, op));
    return total;
  }

 private:
  TempStorage& storage_;
};

template <class T, int LOGICAL_WARP_THREADS = 32>
class WarpReduce {
  static_assert(LOGICAL_WARP_THREADS == 32, "emu_cub: whole warps only");

 public:
  struct TempStorage {
    T slot[32];
  };

  explicit WarpReduce(TempStorage& storage) : storage_(storage) {}

  T Sum(T v) { return Reduce(v, emu_detail::Plus{}); }

  // Must be called by all 32 lanes of the warp; valid in lane 0. The real
  // one shuffles (no shared memory), so back-to-back calls on one
  // TempStorage are fine there: the model syncs the warp after reading.
  template <class Op>
  T Reduce(T v, Op op) {
    const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    storage_.slot[lane] = v;
    emu::g_block->warp_barrier[warp]->arrive_and_wait();
    const T r = lane == 0 ? emu_detail::warp_tree(storage_.slot, op) : emu_detail::garbage<T>();
    emu::g_block->warp_barrier[warp]->arrive_and_wait();
    return r;
  }

 private:
  TempStorage& storage_;
};

}  // namespace cub
