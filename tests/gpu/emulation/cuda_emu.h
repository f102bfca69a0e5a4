// CPU emulation of the CUDA execution model, force-included into the
// kernels/cuda/*.cu sources compiled as host C++ (after transform.py turned
// every <<<>>> launch into emu::launch); see run.sh. Blocks run one after
// another; a block's CUDA threads run in one of two ways:
//  - threads (run.sh asan, tsan): one real thread per CUDA thread (256
//    persistent workers), std::barrier for __syncthreads, so
//    ThreadSanitizer sees a missing __syncthreads as a data race;
//  - fibers (run.sh fast, -DEMU_FIBERS): one fiber per CUDA thread on the
//    launching thread, switched only at barriers (round robin, so
//    deterministic) by a 15-instruction stack switch (x86-64; ucontext's
//    swapcontext makes two system calls per switch); on 2 cores 256 real
//    threads meeting at every barrier cost a storm of wake-ups instead. A
//    barrier that can never complete (threads waiting at different ones)
//    aborts naming the kernel instead of hanging.
// Per-warp exchange buffers and barriers serve the shuffles. __shared__
// becomes `static` (one block at a time, so one copy suffices).
//
// Every launch is checked against the limits of sm_75 and sm_90 (grid
// x <= 2^31-1, y and z <= 65535; 1..1024 threads in whole warps, 256 here;
// static + dynamic shared memory <= 48 KB, the most a kernel gets without
// cudaFuncSetAttribute, which is not modelled: a kernel that opts in to
// more adds it here). A violation aborts naming the kernel: on a GPU the
// launch would fail or, worse, be caught late. Registers are invisible here:
// tests/cuda_build/check_resource_usage.py checks them on the built cubins.
// Tensor cores (mma.sync, TF32 rounding) and cp.async: emu_mma.h and
// kernels/cuda/mma.cuh; cp.async is a plain copy at the call, so a missing
// __syncthreads around it still shows under tsan.
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
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "emu_capture.h"

#ifdef EMU_FIBERS
#ifndef __x86_64__
#error "EMU_FIBERS: the fibers' stack switch is x86-64 assembly (run.sh sets it only there)"
#endif
#include <sys/mman.h>
#endif

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

struct MmaSlots;

#ifdef EMU_FIBERS
inline void fiber_wait();
inline void fiber_note_progress();
// std::barrier's arrive_and_wait / arrive_and_drop for fibers: a waiting
// fiber yields until the phase it arrived in completes.
class Barrier {
 public:
  explicit Barrier(unsigned count) : expected_(count), pending_(count) {}
  void arrive_and_wait() {
    const uint64_t phase = phase_;
    arrive();
    while (phase_ == phase) fiber_wait();
  }
  // An exited thread: it arrives now and is not expected in later phases.
  void arrive_and_drop() {
    --expected_;
    arrive();
  }

 private:
  void arrive() {
    fiber_note_progress();
    if (--pending_ == 0) {
      pending_ = expected_;
      ++phase_;
    }
  }
  unsigned expected_, pending_;
  uint64_t phase_ = 0;
};
#else
using Barrier = std::barrier<>;
#endif

struct BlockState {
  std::unique_ptr<Barrier> block_barrier;
  std::unique_ptr<Barrier> warp_barrier[32];
  alignas(16) unsigned char exchange[32][32][8];  // [warp][lane] 8 bytes
  // The block's static __shared__ variables (address, bytes), noted by
  // transform.py's note_shared after each declaration.
  std::mutex shared_mutex;
  std::vector<std::pair<const void*, size_t>> shared;
  std::unique_ptr<MmaSlots[]> mma;                // [warp]: fragments of mma.sync (emu_mma.h)
};
inline BlockState* g_block = nullptr;
inline dim3 g_block_idx, g_grid_dim, g_block_dim;
inline thread_local dim3 t_thread_idx;

}  // namespace emu

#define threadIdx (::emu::t_thread_idx)

namespace emu {
// Called after each static __shared__ declaration; the first lane of each
// warp records it (one variable per address), so a kernel's static shared
// memory is the sum over what its threads declared.
inline void note_shared(const void* p, size_t bytes) {
  if ((t_thread_idx.x & 31) != 0) return;
  std::lock_guard<std::mutex> lock(g_block->shared_mutex);
  for (const auto& [q, n] : g_block->shared)
    if (q == p) return;
  g_block->shared.emplace_back(p, bytes);
}
}  // namespace emu

#define blockIdx (::emu::g_block_idx)
#define gridDim (::emu::g_grid_dim)
#define blockDim (::emu::g_block_dim)

#include "emu_mma.h"

namespace emu {
inline MmaSlots& mma_slots(unsigned warp) { return g_block->mma[warp]; }
inline void warp_sync_emu(unsigned warp) { g_block->warp_barrier[warp]->arrive_and_wait(); }
}  // namespace emu

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

#ifdef EMU_FIBERS
// Saves the callee-saved registers on this stack, stores the stack pointer
// in *save_sp, and resumes the stack at load_sp (System V x86-64 ABI: a
// plain call, so the compiler already assumes the caller-saved registers
// and memory changed). The FP control words are not switched: no kernel
// changes them. Weak, as every translation unit of a kernel defines it.
extern "C" void emu_fiber_switch(void** save_sp, void* load_sp);
asm(R"(
  .text
  .weak emu_fiber_switch
  .type emu_fiber_switch, @function
emu_fiber_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size emu_fiber_switch, .-emu_fiber_switch
)");

// Up to 256 fibers on the launching thread, with stacks (and a guard page
// below each) mapped once; a block runs on the first blockDim.x.
struct Pool {
  static constexpr unsigned size = 256;
  static constexpr size_t stack_bytes = 256 * 1024, guard_bytes = 4096;
  void* scheduler_sp = nullptr;
  void* fiber_sp[size];
  bool finished[size];
  unsigned current = 0;
  uint64_t progress = 0;  // arrivals at barriers and finished fibers
  const std::function<void()>* body = nullptr;
  BlockState* state = nullptr;
  unsigned char* stacks = nullptr;

  Pool() {
    const size_t bytes = size * (stack_bytes + guard_bytes);
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      std::perror("emu: mmap of the fiber stacks");
      std::abort();
    }
    stacks = static_cast<unsigned char*>(m);
    for (unsigned t = 0; t < size; ++t) mprotect(stacks + t * (stack_bytes + guard_bytes), guard_bytes, PROT_NONE);
  }
  [[noreturn]] static void fiber_main();
  // A fresh stack for fiber t that emu_fiber_switch "returns" into
  // fiber_main from: six zero registers, then fiber_main's address, then a
  // null return address for it, so that it starts with the stack aligned
  // as after a call (rsp = 8 mod 16).
  void start_fiber(unsigned t) {
    auto* top = reinterpret_cast<uintptr_t*>(stacks + (t + 1) * (stack_bytes + guard_bytes));
    top[-1] = 0;
    top[-2] = reinterpret_cast<uintptr_t>(&Pool::fiber_main);
    for (int r = 3; r <= 8; ++r) top[-r] = 0;
    fiber_sp[t] = top - 8;
    finished[t] = false;
  }
  // Runs body() as `threads` CUDA threads of one block.
  void run_block(unsigned threads, const char* kernel) {
    for (unsigned t = 0; t < threads; ++t) start_fiber(t);
    unsigned live = threads;
    while (live > 0) {
      const uint64_t before = progress;
      for (unsigned t = 0; t < threads; ++t) {
        if (finished[t]) continue;
        current = t;
        t_thread_idx = dim3(t, 0, 0);
        emu_fiber_switch(&scheduler_sp, fiber_sp[t]);
        if (finished[t]) --live;
      }
      if (live > 0 && progress == before) {
        std::fprintf(stderr, "emu: launch of %s: deadlock: %u threads wait at barriers that can never complete\n",
                     kernel, live);
        std::abort();
      }
    }
  }
};
inline Pool* g_pool = nullptr;
inline void Pool::fiber_main() {
  Pool& p = *g_pool;
  (*p.body)();
  // An exited thread counts as arrived at later barriers (as on the GPU).
  const unsigned t = p.current;
  p.state->warp_barrier[t / 32]->arrive_and_drop();
  p.state->block_barrier->arrive_and_drop();
  p.finished[t] = true;
  ++p.progress;
  emu_fiber_switch(&p.fiber_sp[t], p.scheduler_sp);  // never resumed
  __builtin_unreachable();
}
inline void fiber_wait() { emu_fiber_switch(&g_pool->fiber_sp[g_pool->current], g_pool->scheduler_sp); }
inline void fiber_note_progress() { ++g_pool->progress; }
#else
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
#endif

// The launch limits shared by sm_75 and sm_90 (CUDA C Programming Guide,
// "Technical Specifications per Compute Capability").
constexpr unsigned long long max_grid_x = (1ull << 31) - 1, max_grid_yz = 65535;
constexpr unsigned max_block_threads = 1024;
constexpr size_t max_shared_default = 48 * 1024;  // per block, without cudaFuncSetAttribute

[[noreturn]] inline void launch_error(const char* kernel, const char* what, unsigned long long value,
                                      unsigned long long limit) {
  std::fprintf(stderr, "emu: launch of %s: %s is %llu, the limit on sm_75 and sm_90 is %llu\n", kernel, what, value,
               limit);
  std::abort();
}

inline void check_launch(const char* kernel, dim3 grid, dim3 block, size_t dynamic_shared) {
  if (grid.x < 1 || grid.x > max_grid_x) launch_error(kernel, "gridDim.x", grid.x, max_grid_x);
  if (grid.y < 1 || grid.y > max_grid_yz) launch_error(kernel, "gridDim.y", grid.y, max_grid_yz);
  if (grid.z < 1 || grid.z > max_grid_yz) launch_error(kernel, "gridDim.z", grid.z, max_grid_yz);
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (threads < 1 || threads > max_block_threads) launch_error(kernel, "threads per block", threads, max_block_threads);
  if (threads % 32 != 0) launch_error(kernel, "threads per block (not a whole number of warps)", threads, threads / 32 * 32);
  if (block.y != 1 || block.z != 1) launch_error(kernel, "blockDim.y * blockDim.z (the emulation runs 1-D blocks)", block.y * block.z, 1);
  if (threads > Pool::size) launch_error(kernel, "threads per block (the emulation's pool)", threads, Pool::size);
  if (dynamic_shared > max_shared_default) launch_error(kernel, "dynamic shared memory", dynamic_shared, max_shared_default);
}

inline void check_shared(const char* kernel, const BlockState& state, size_t dynamic_shared) {
  size_t total = dynamic_shared;
  for (const auto& [p, n] : state.shared) total += n;
  if (total > max_shared_default) launch_error(kernel, "static + dynamic shared memory per block", total, max_shared_default);
}

}  // namespace emu

// Counts one launch (fake_backend.cpp; read by tests/gpu/launch_count.h).
extern "C" void rotor_emu_note_launch();

namespace emu {

// Runs body() for every thread of every block of the grid, after checking
// the configuration; the shared memory the kernel declares is checked after
// its first block (declarations are seen only when they run).
inline void launch(dim3 grid, dim3 block, size_t dynamic_shared, const char* kernel, const std::function<void()>& body) {
  check_launch(kernel, grid, block, dynamic_shared);
  // While a stream is captured the launch is recorded, not run (emu_capture.h).
  if (capture) {
    capture->push_back([grid, block, dynamic_shared, kernel, body] { launch(grid, block, dynamic_shared, kernel, body); });
    return;
  }
  static Pool* pool = new Pool;  // never destroyed: its threads wait at exit
#ifdef EMU_FIBERS
  g_pool = pool;
#endif
  rotor_emu_note_launch();
  const unsigned threads = block.x * block.y * block.z;
  g_grid_dim = grid;
  g_block_dim = block;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        BlockState state;
        state.block_barrier = std::make_unique<Barrier>(threads);
        for (unsigned w = 0; w < threads / 32; ++w) state.warp_barrier[w] = std::make_unique<Barrier>(32);
        state.mma = std::make_unique<MmaSlots[]>(threads / 32);
        g_block = &state;
        g_block_idx = dim3(x, y, z);
        pool->body = &body;
        pool->state = &state;
#ifdef EMU_FIBERS
        pool->run_block(threads, kernel);
#else
        pool->active = threads;
        pool->start.arrive_and_wait();
        pool->done.arrive_and_wait();
#endif
        g_block = nullptr;
        check_shared(kernel, state, dynamic_shared);
      }
}

}  // namespace emu

#undef cudaGetLastError
#define cudaGetLastError() cudaSuccess
