// Context: everything an op needs besides its tensors, passed explicitly.
//
// It owns the device choice, the CPU thread pool, the run's random stream,
// the caching allocators and (with the CUDA backend) the stream, the cuBLAS
// handle and the scratch workspace. There are no globals in rotor: two
// Contexts are two independent engines. Tensors allocated through a Context
// keep its allocator alive, but ops must not outlive the Context.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/allocator.h"
#include "engine/device.h"
#include "engine/rng.h"
#include "engine/thread_pool.h"

namespace rotor {

struct CudaState;  // engine/cuda/cuda_state.h: stream, cuBLAS handle, workspace

// What the CUDA convolutions multiply in. tf32 (the default, as PyTorch's
// for convolutions) runs them on tensor cores with operands rounded to
// TF32 (10-bit mantissa) and FP32 sums, where the card has them (sm_80+);
// fp16 on FP16 tensor cores (operands rounded to IEEE half, dy scaled by a
// power of two, FP32 sums) on sm_75+, the one choice with tensor cores on a
// 2080 Ti; fp32 keeps the FP32 SIMT kernels. Cards without the asked-for
// tensor cores and the CPU compute in FP32, whatever is asked.
enum class Precision { fp32, tf32, fp16 };

struct ContextOptions {
  Device device = Device::cpu;
  int threads = 0;  // CPU worker threads; 0 = one per hardware thread
  uint64_t seed = 0;
  int cuda_device = 0;
  Precision precision = Precision::tf32;
};

// "fp32", "tf32" or "fp16"; parse_precision throws an Error naming the value and
// the choices for anything else (the caller names the flag or field).
const char* precision_name(Precision p);
Precision parse_precision(const std::string& name);

class Context {
 public:
  explicit Context(const ContextOptions& options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Device device() const { return options_.device; }
  bool on_cuda() const { return options_.device == Device::cuda; }
  const ContextOptions& options() const { return options_; }
  // What later convolutions multiply in; may change between ops (bench_cuda
  // times both precisions on one stream).
  void set_precision(Precision p) { options_.precision = p; }
  ThreadPool& pool() { return pool_; }
  Rng& rng() { return rng_; }
  std::shared_ptr<Allocator> allocator(Device device);
  // The CUDA state; throws when this context does not run on CUDA.
  CudaState& cuda();
  // Waits for all queued device work (no-op on the CPU).
  void synchronize();
  // Chosen once at construction: the CPU GEMM uses AVX2+FMA when present.
  bool cpu_has_avx2_fma() const { return avx2_fma_; }

  // Host scratch memory per pool thread that persists between calls, so hot
  // CPU loops never allocate. Slots separate users that nest (im2col buffers
  // are alive while the GEMM packs its panels). A Context runs ops from one
  // thread at a time.
  enum class Scratch { gemm_a, gemm_b, im2col, partial, count };
  void* host_scratch(Scratch slot, int thread, size_t bytes);

 private:
  ContextOptions options_;
  ThreadPool pool_;
  Rng rng_;
  std::shared_ptr<Allocator> host_allocator_;
  std::shared_ptr<Allocator> cuda_allocator_;
  std::unique_ptr<CudaState, void (*)(CudaState*)> cuda_;
  bool avx2_fma_ = false;
  struct ScratchBuffer {
    std::shared_ptr<void> data;
    size_t bytes = 0;
  };
  std::vector<ScratchBuffer> scratch_;  // [slot * pool size + thread]
};

// Number of usable CUDA devices (0 when none, or when built without CUDA).
int cuda_device_count();

// Why cuda_device_count() is 0, in words ("" when a GPU is usable): no CUDA
// backend in this build, no device, or the runtime's error (e.g. a driver
// older than the runtime), so that "no GPU" is never a silent guess.
std::string cuda_unavailable_reason();

// Parses "auto", "cpu" or "cuda". auto picks CUDA when the backend is built
// and a GPU is present. "cuda" without a usable GPU is an Error saying why.
Device resolve_device(const std::string& name);

// Copies bytes between any two devices (host<->device copies are stream-ordered
// and complete before returning).
void copy_bytes(Context& ctx, void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

// The CUDA backend's half of Context (engine/cuda/ or the CPU-only stub).
CudaState* create_cuda_state(int device_index);
void destroy_cuda_state(CudaState* state);
void cuda_synchronize(CudaState& state);
void cuda_copy_bytes(CudaState& state, void* dst, Device dst_device, const void* src, Device src_device,
                     size_t bytes);

}  // namespace rotor
