// CPU emulation of the CUDA execution model, force-included into the
// kernels/cuda/*.cu sources compiled as host C++ (after transform.py turned
// every <<<>>> launch into emu::launch); see run.sh. One real thread per
// CUDA thread of a block (256 persistent workers; blocks run one after
// another), std::barrier for __syncthreads, per-warp exchange buffers and
// barriers for the shuffles. __shared__ becomes `static` (one block at a
// time, so one copy suffices), so ThreadSanitizer sees a missing
// __syncthreads as a data race on it.
//
// Not modelled: lockstep warps (the kernels never rely on them), the
// read-only cache of __ldg, misaligned 16-byte accesses, races between
// blocks (blocks never overlap here), FMA contraction (g++ does not
// contract, nvcc does: the GPU rounds a little differently).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "emu_capture.h"

#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#undef __launch_bounds__
#undef __align__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __CUDACC__EMU 1

namespace emu {

struct BlockState {
  std::unique_ptr<std::barrier<>> block_barrier;
  std::unique_ptr<std::barrier<>> warp_barrier[32];
  alignas(16) unsigned char exchange[32][32][8];  // [warp][lane] 8 bytes
};
inline BlockState* g_block = nullptr;
inline dim3 g_block_idx, g_grid_dim, g_block_dim;
inline thread_local dim3 t_thread_idx;

}  // namespace emu

#define threadIdx (::emu::t_thread_idx)
#define blockIdx (::emu::g_block_idx)
#define gridDim (::emu::g_grid_dim)
#define blockDim (::emu::g_block_dim)

inline void __syncthreads() { emu::g_block->block_barrier->arrive_and_wait(); }

template <class T>
inline T emu_shfl(T v, int src_lane_fn_kind, int arg) {
  const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  static_assert(sizeof(T) <= 8);
  std::memcpy(emu::g_block->exchange[warp][lane], &v, sizeof(T));
  emu::g_block->warp_barrier[warp]->arrive_and_wait();
  unsigned src = lane;
  if (src_lane_fn_kind == 0) {  // down
    src = lane + arg < 32 ? lane + arg : lane;
  } else {  // xor
    src = lane ^ static_cast<unsigned>(arg);
  }
  T r;
  std::memcpy(&r, emu::g_block->exchange[warp][src], sizeof(T));
  emu::g_block->warp_barrier[warp]->arrive_and_wait();
  return r;
}
template <class T>
inline T __shfl_down_sync(unsigned, T v, int offset) { return emu_shfl(v, 0, offset); }
template <class T>
inline T __shfl_xor_sync(unsigned, T v, int mask) { return emu_shfl(v, 1, mask); }

inline unsigned __umulhi(unsigned a, unsigned b) { return static_cast<unsigned>((uint64_t(a) * b) >> 32); }
template <class T>
inline T __ldg(const T* p) { return *p; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return std::atomic_ref<unsigned long long>(*p).fetch_add(v);
}
using std::max;
using std::min;
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }

namespace emu {

// 256 persistent worker threads; a block runs on the first blockDim.x.
struct Pool {
  static constexpr unsigned size = 256;
  std::barrier<> start{size + 1}, done{size + 1};
  const std::function<void()>* body = nullptr;
  unsigned active = 0;
  BlockState* state = nullptr;
  std::vector<std::thread> workers;
  Pool() {
    for (unsigned t = 0; t < size; ++t)
      workers.emplace_back([this, t] {
        t_thread_idx = dim3(t, 0, 0);
        for (;;) {
          start.arrive_and_wait();
          if (t < active) {
            (*body)();
            // An exited thread counts as arrived at later barriers (as on the GPU).
            state->warp_barrier[t / 32]->arrive_and_drop();
            state->block_barrier->arrive_and_drop();
          }
          done.arrive_and_wait();
        }
      });
    for (auto& w : workers) w.detach();
  }
};

// Runs body() for every thread of every block of the grid (or, while a
// stream is captured, records the launch: emu_capture.h).
inline void launch(dim3 grid, dim3 block, const std::function<void()>& body) {
  if (capture) {
    capture->push_back([grid, block, body] { launch(grid, block, body); });
    return;
  }
  static Pool* pool = new Pool;  // never destroyed: its threads wait at exit
  const unsigned threads = block.x * block.y * block.z;
  if (block.y != 1 || block.z != 1 || threads > Pool::size || threads % 32 != 0) throw std::runtime_error("emu: block");
  g_grid_dim = grid;
  g_block_dim = block;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        BlockState state;
        state.block_barrier = std::make_unique<std::barrier<>>(threads);
        for (unsigned w = 0; w < threads / 32; ++w) state.warp_barrier[w] = std::make_unique<std::barrier<>>(32);
        g_block = &state;
        g_block_idx = dim3(x, y, z);
        pool->body = &body;
        pool->active = threads;
        pool->state = &state;
        pool->start.arrive_and_wait();
        pool->done.arrive_and_wait();
        g_block = nullptr;
      }
}

}  // namespace emu

#undef cudaGetLastError
#define cudaGetLastError() cudaSuccess
