#include "engine/context.h"

#include <cstdlib>
#include <cstring>

#include "engine/error.h"

namespace rotor {

static bool detect_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

Context::Context(const ContextOptions& options)
    : options_(options),
      pool_(options.threads),
      rng_(options.seed),
      host_allocator_(std::make_shared<HostAllocator>()),
      cuda_(nullptr, destroy_cuda_state),
      avx2_fma_(detect_avx2_fma()),
      scratch_(static_cast<size_t>(Scratch::count) * pool_.size()) {
  if (options_.device == Device::cuda) {
    cuda_.reset(create_cuda_state(options_.cuda_device));
    cuda_allocator_ = make_cuda_allocator(options_.cuda_device);
  }
}

Context::~Context() = default;

std::shared_ptr<Allocator> Context::allocator(Device device) {
  if (device == Device::cpu) return host_allocator_;
  ROTOR_CHECK(cuda_allocator_ != nullptr, "this context runs on the CPU and cannot allocate CUDA memory");
  return cuda_allocator_;
}

CudaState& Context::cuda() {
  ROTOR_CHECK(cuda_ != nullptr, "this context runs on the CPU: no CUDA state");
  return *cuda_;
}

void Context::synchronize() {
  if (cuda_) cuda_synchronize(*cuda_);
}

void* Context::host_scratch(Scratch slot, int thread, size_t bytes) {
  ScratchBuffer& b = scratch_.at(static_cast<size_t>(slot) * pool_.size() + thread);
  if (b.bytes < bytes) {
    const size_t size = Allocator::round_up(bytes);
    b.data.reset(std::aligned_alloc(256, size), std::free);
    ROTOR_CHECK(b.data != nullptr, "out of host memory for {} bytes of scratch", size);
    b.bytes = size;
  }
  return b.data.get();
}

void copy_bytes(Context& ctx, void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device == Device::cpu && src_device == Device::cpu) {
    std::memcpy(dst, src, bytes);
    return;
  }
  cuda_copy_bytes(ctx.cuda(), dst, dst_device, src, src_device, bytes);
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::fp16: return "fp16";
  }
  return "?";
}

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "tf32") return Precision::tf32;
  if (name == "fp16") return Precision::fp16;
  fail("unknown precision '{}': expected fp32, tf32 or fp16", name);
}

Device resolve_device(const std::string& name) {
  if (name == "cpu") return Device::cpu;
  if (name == "auto") return cuda_device_count() > 0 ? Device::cuda : Device::cpu;
  if (name == "cuda") {
    ROTOR_CHECK(cuda_compiled(), "--device cuda: this build of rotor has no CUDA backend (nvcc was not found "
                                 "when it was configured); use --device cpu");
    ROTOR_CHECK(cuda_device_count() > 0, "--device cuda: {}", cuda_unavailable_reason());
    return Device::cuda;
  }
  fail("unknown device '{}': expected auto, cpu or cuda", name);
}

}  // namespace rotor
