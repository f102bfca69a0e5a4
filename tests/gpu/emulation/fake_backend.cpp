// The CUDA half of Context for the emulation (replaces
// engine/cuda/cuda_context.cpp and cuda_check.cpp): "device" memory is host
// memory, copies are memcpy, the workspace is poisoned with NaN, and
// cuBLAS's SGEMM is a plain column-major loop. EMU_SMS sets the SM count
// the kernels size their grids for (default 4); EMU_CC the compute
// capability the kernels see (default 9.0, an H100/H200, so that the
// tensor-core convolutions are what runs; 7.5 runs the sm_75 path).
//
// Stream capture (engine/cuda_graph.h, emu_capture.h): launches, SGEMMs and
// device-to-device copies are recorded, a graph launch replays them in
// order, and whatever would break a real capture fails loudly here: a
// cudaMalloc or cudaFree (a new allocator block, a growing workspace), a
// host<->device copy or a synchronisation.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "engine/allocator.h"
#include "engine/context.h"
#include "engine/cuda/cuda_state.h"
#include "engine/cuda_graph.h"
#include "engine/error.h"
#include "tests/gpu/emulation/emu_capture.h"

// Kernel launches so far: emu::launch (cuda_emu.h) counts each one, and
// tests read the count through tests/gpu/launch_count.h. The harness's own
// counter; product code has none (a real GPU build has no such symbol).
static uint64_t emu_launches = 0;
extern "C" void rotor_emu_note_launch() { ++emu_launches; }
extern "C" uint64_t rotor_emu_launch_count() { return emu_launches; }

namespace rotor {
namespace {

// What a real capture does not survive: an Error (throwing is the loud way
// where the caller can catch it).
void refuse_while_capturing(const char* what) {
  if (emu::capture) fail("emulation: {} while a stream is being captured (it would invalidate a real CUDA graph capture)", what);
}

class EmuAllocator final : public Allocator {
 public:
  ~EmuAllocator() override { release_all(); }
  Device device() const override { return Device::cuda; }

 protected:
  void* raw_allocate(size_t bytes) override {
    refuse_while_capturing("cudaMalloc");
    if (bytes > (size_t(1) << 40)) return nullptr;  // "out of memory"
    return std::aligned_alloc(256, round_up(bytes));
  }
  // Runs in noexcept paths: a cudaFree during capture aborts the test binary.
  void raw_free(void* p) override {
    if (emu::capture) {
      std::fprintf(stderr, "emulation: cudaFree while a stream is being captured\n");
      std::abort();
    }
    std::free(p);
  }
};
}  // namespace

bool cuda_compiled() { return true; }
int cuda_device_count() { return 1; }
std::string cuda_unavailable_reason() { return ""; }
std::shared_ptr<Allocator> make_cuda_allocator(int) { return std::make_shared<EmuAllocator>(); }
CudaState* create_cuda_state(int device) {
  auto* s = new CudaState;
  s->device = device;
  s->prop.multiProcessorCount = std::getenv("EMU_SMS") ? std::atoi(std::getenv("EMU_SMS")) : 4;
  s->prop.l2CacheSize = 1 << 20;
  const double cc = std::getenv("EMU_CC") ? std::atof(std::getenv("EMU_CC")) : 9.0;
  s->prop.major = static_cast<int>(cc);
  s->prop.minor = static_cast<int>((cc - s->prop.major) * 10 + 0.5);
  return s;
}
void destroy_cuda_state(CudaState* s) {
  if (s) std::free(s->workspace);
  delete s;
}
void cuda_synchronize(CudaState&) { refuse_while_capturing("a stream synchronisation"); }
void cuda_copy_bytes(CudaState&, void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (emu::capture && dst_device == Device::cuda && src_device == Device::cuda) {
    emu::capture->push_back([dst, src, bytes] { std::memcpy(dst, src, bytes); });
    return;
  }
  // rotor's host<->device copies wait for the stream.
  refuse_while_capturing("a host<->device copy");
  std::memcpy(dst, src, bytes);
}
void* cuda_workspace(CudaState& s, size_t bytes, Allocator&) {
  if (bytes <= s.workspace_bytes) return s.workspace;
  refuse_while_capturing("growing the workspace (cudaFree + cudaMalloc)");
  std::free(s.workspace);
  const size_t size = Allocator::round_up(bytes > 2 * s.workspace_bytes ? bytes : 2 * s.workspace_bytes);
  s.workspace = std::aligned_alloc(256, size);
  // Poison: a kernel that reads workspace it did not write sees NaN.
  std::memset(s.workspace, 0xFF, size);
  s.workspace_bytes = size;
  return s.workspace;
}
struct CudaGraphExec {
  std::vector<std::function<void()>> work;
};
void cuda_begin_capture(CudaState&) {
  refuse_while_capturing("cudaStreamBeginCapture");
  emu::capture = new std::vector<std::function<void()>>;
}
CudaGraphExec* cuda_end_capture(CudaState&, const std::string& failure) {
  ROTOR_CHECK(emu::capture != nullptr, "emulation: cudaStreamEndCapture without a capture");
  std::unique_ptr<std::vector<std::function<void()>>> work(emu::capture);
  emu::capture = nullptr;
  if (!failure.empty()) fail("the training step could not be captured as a CUDA graph: {}", failure);
  return new CudaGraphExec{std::move(*work)};
}
void cuda_graph_launch(CudaState&, CudaGraphExec* g) {
  refuse_while_capturing("a graph launch");
  for (const auto& w : g->work) w();
}
void cuda_graph_destroy(CudaGraphExec* g) noexcept { delete g; }
// Pageable memory is staged when the call returns: a copy now is the same.
void cuda_copy_to_device_async(CudaState&, void* dst, const void* src, size_t bytes) {
  refuse_while_capturing("a host-to-device copy from pageable memory");
  std::memcpy(dst, src, bytes);
}

namespace detail {
void cuda_fail(cudaError_t e, const char* call, const char* file, int line) {
  fail("CUDA error {} in {} at {}:{}", int(e), call, file, line);
}
void cublas_fail(cublasStatus_t e, const char* call, const char* file, int line) {
  fail("cuBLAS error {} in {} at {}:{}", int(e), call, file, line);
}
void cuda_require_fail(const char* op, const char* message) { fail("{}: {}", op, message); }
}  // namespace detail
}  // namespace rotor

// Column-major C = alpha op(A) op(B) + beta C.
extern "C" cublasStatus_t cublasSgemm_v2(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                                         const float* beta, float* C, int ldc) {
  if (emu::capture) {  // alpha and beta are host pointers: read now, as cuBLAS does when captured
    emu::capture->push_back([=, a = *alpha, b = *beta] {
      cublasSgemm_v2(nullptr, ta, tb, m, n, k, &a, A, lda, B, ldb, &b, C, ldc);
    });
    return CUBLAS_STATUS_SUCCESS;
  }
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double s = 0;
      for (int p = 0; p < k; ++p) {
        const float a = ta == CUBLAS_OP_N ? A[i + p * lda] : A[p + i * lda];
        const float b = tb == CUBLAS_OP_N ? B[p + j * ldb] : B[j + p * ldb];
        s += double(a) * b;
      }
      float& c = C[i + j * ldc];
      c = static_cast<float>(*alpha * s + (*beta == 0 ? 0.0 : double(*beta) * c));
    }
  return CUBLAS_STATUS_SUCCESS;
}
