// The CUDA half of Context for builds with the CUDA backend (CPU-only builds
// compile engine/cuda_unavailable.cpp instead): device discovery, the
// cudaMalloc-backed caching allocator, the stream + cuBLAS handle +
// workspace of CudaState, and copies between host and device.
//
// Host code only (compiled by the host compiler, not nvcc). Design decision:
// host-visible copies (host<->device) complete before returning, so callers
// may read or reuse host buffers at once; device-to-device copies stay
// queued on the context's stream like every kernel. Managed memory is never
// used.
#include <cuda_runtime_api.h>

#include <algorithm>

#include "engine/allocator.h"
#include "engine/context.h"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_state.h"
#include "engine/error.h"

namespace rotor {
namespace {

// cuBLAS wants its own workspace when a stream is captured into a graph; 32
// MiB is NVIDIA's recommendation for Hopper and more than enough elsewhere.
constexpr size_t cublas_workspace_size = size_t(32) << 20;

class CudaAllocator final : public Allocator {
 public:
  explicit CudaAllocator(int device) : device_(device) {}
  ~CudaAllocator() override { release_all(); }
  Device device() const override { return Device::cuda; }

 protected:
  // nullptr on out-of-memory (Allocator::allocate then empties its cache,
  // retries and throws naming the size); any other failure throws here.
  void* raw_allocate(size_t bytes) override {
    ROTOR_CUDA_CHECK(cudaSetDevice(device_));
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();  // clear the error so later calls do not report it
      return nullptr;
    }
    ROTOR_CUDA_CHECK(e);
    return p;
  }
  // Called from destructors too: never throws. A cached block may still be
  // read by queued kernels (its tensor died on the host, not on the
  // device), so the device finishes its work first. This only happens when
  // the cache is emptied (out of memory, or the allocator's end).
  void raw_free(void* block) override {
    if (cudaSetDevice(device_) != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) (void)cudaGetLastError();
    if (cudaFree(block) != cudaSuccess) (void)cudaGetLastError();
  }

 private:
  int device_;
};

void free_quietly(void* p) {
  if (p && cudaFree(p) != cudaSuccess) (void)cudaGetLastError();
}

}  // namespace

bool cuda_compiled() { return true; }

int cuda_device_count() {
  int n = 0;
  // No driver, no device, a driver older than the runtime: all mean "none"
  // (cuda_unavailable_reason says which).
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

std::string cuda_unavailable_reason() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  (void)cudaGetLastError();
  if (e == cudaSuccess && n > 0) return "";
  if (e == cudaSuccess || e == cudaErrorNoDevice) return "no usable CUDA GPU: no CUDA device found on this machine";
  if (e == cudaErrorInsufficientDriver)
    return "no usable CUDA GPU: no NVIDIA driver, or one older than this build's CUDA runtime "
           "(cudaErrorInsufficientDriver)";
  return fmt::format("no usable CUDA GPU: the CUDA runtime says {} ({})", cudaGetErrorName(e), cudaGetErrorString(e));
}

std::shared_ptr<Allocator> make_cuda_allocator(int device_index) {
  return std::make_shared<CudaAllocator>(device_index);
}

CudaState* create_cuda_state(int device_index) {
  const int count = cuda_device_count();
  ROTOR_CHECK(count > 0, "CUDA: no usable GPU found on this machine");
  ROTOR_CHECK(device_index >= 0 && device_index < count, "CUDA: device {} requested but only {} GPU(s) found",
              device_index, count);
  auto* s = new CudaState;
  try {
    s->device = device_index;
    ROTOR_CUDA_CHECK(cudaSetDevice(device_index));
    ROTOR_CUDA_CHECK(cudaGetDeviceProperties(&s->prop, device_index));
    ROTOR_CUDA_CHECK(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
    ROTOR_CUBLAS_CHECK(cublasCreate(&s->cublas));
    ROTOR_CUBLAS_CHECK(cublasSetStream(s->cublas, s->stream));
    // Plain FP32 (no TF32 tensor cores): the linear layer must compute what
    // the CPU reference computes, to float rounding.
    ROTOR_CUBLAS_CHECK(cublasSetMathMode(s->cublas, CUBLAS_DEFAULT_MATH));
    ROTOR_CUDA_CHECK(cudaMalloc(&s->cublas_workspace, cublas_workspace_size));
    s->cublas_workspace_bytes = cublas_workspace_size;
    ROTOR_CUBLAS_CHECK(cublasSetWorkspace(s->cublas, s->cublas_workspace, s->cublas_workspace_bytes));
  } catch (...) {
    destroy_cuda_state(s);
    throw;
  }
  return s;
}

void destroy_cuda_state(CudaState* s) {
  if (!s) return;
  // Best effort and never throws (runs from ~Context).
  if (s->stream && cudaStreamSynchronize(s->stream) != cudaSuccess) (void)cudaGetLastError();
  if (s->cublas) cublasDestroy(s->cublas);
  free_quietly(s->workspace);
  free_quietly(s->cublas_workspace);
  if (s->stream && cudaStreamDestroy(s->stream) != cudaSuccess) (void)cudaGetLastError();
  delete s;
}

void cuda_synchronize(CudaState& s) { ROTOR_CUDA_CHECK(cudaStreamSynchronize(s.stream)); }

void cuda_copy_bytes(CudaState& s, void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  cudaMemcpyKind kind = cudaMemcpyDeviceToDevice;
  if (dst_device == Device::cuda && src_device == Device::cpu) kind = cudaMemcpyHostToDevice;
  if (dst_device == Device::cpu && src_device == Device::cuda) kind = cudaMemcpyDeviceToHost;
  if (dst_device == Device::cpu && src_device == Device::cpu) kind = cudaMemcpyHostToHost;
  ROTOR_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, s.stream));
  if (kind != cudaMemcpyDeviceToDevice) ROTOR_CUDA_CHECK(cudaStreamSynchronize(s.stream));
}

void* cuda_workspace(CudaState& s, size_t bytes, Allocator& tensor_cache) {
  if (bytes <= s.workspace_bytes) return s.workspace;
  // Grow geometrically so a few sizes settle quickly. Kernels queued by
  // earlier ops may still use the old buffer: wait for them (the one host
  // synchronisation an op can cause, and only while the workspace grows,
  // i.e. in the first step).
  const size_t size = Allocator::round_up(std::max(bytes, 2 * s.workspace_bytes));
  if (s.workspace) ROTOR_CUDA_CHECK(cudaStreamSynchronize(s.stream));
  free_quietly(s.workspace);
  s.workspace = nullptr;
  s.workspace_bytes = 0;
  cudaError_t e = cudaMalloc(&s.workspace, size);
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    tensor_cache.empty_cache();
    e = cudaMalloc(&s.workspace, size);
  }
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    fail("out of cuda memory: could not allocate a {:.1f} MiB kernel workspace ({} bytes)", size / 1048576.0, size);
  }
  ROTOR_CUDA_CHECK(e);
  s.workspace_bytes = size;
  return s.workspace;
}

}  // namespace rotor
