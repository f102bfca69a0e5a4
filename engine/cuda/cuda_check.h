// Checks for every CUDA runtime and cuBLAS call, and for every kernel launch.
//
//   ROTOR_CUDA_CHECK(cudaMemcpyAsync(...));
//   kernel<<<grid, block, 0, stream>>>(...);
//   ROTOR_CUDA_CHECK_LAUNCH();
//   ROTOR_CUBLAS_CHECK(cublasSgemm(...));
//
// A failure throws rotor::Error naming the call, the file and line, and the
// CUDA error string. The throwing functions live in cuda_check.cpp so that
// .cu files do not include fmt (nvcc compiles fmt slowly).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace rotor::detail {

[[noreturn]] void cuda_fail(cudaError_t error, const char* call, const char* file, int line);
[[noreturn]] void cublas_fail(cublasStatus_t status, const char* call, const char* file, int line);
// A precondition of a CUDA kernel wrapper failed (e.g. a tensor too large
// for the kernel's 32-bit indexing): throws rotor::Error "<op>: <message>".
[[noreturn]] void cuda_require_fail(const char* op, const char* message);

}  // namespace rotor::detail

#define ROTOR_CUDA_CHECK(call)                                                         \
  do {                                                                                 \
    const cudaError_t rotor_cuda_error_ = (call);                                      \
    if (rotor_cuda_error_ != cudaSuccess)                                              \
      ::rotor::detail::cuda_fail(rotor_cuda_error_, #call, __FILE__, __LINE__);        \
  } while (0)

// After a kernel launch: reports a bad launch configuration (and any earlier
// asynchronous error the device has already raised). Kernels run later; an
// error inside one surfaces at the next checked call.
#define ROTOR_CUDA_CHECK_LAUNCH() ROTOR_CUDA_CHECK(cudaGetLastError())

// ROTOR_CUDA_REQUIRE(condition, "op_name", "what was expected")
#define ROTOR_CUDA_REQUIRE(condition, op, message)                                     \
  do {                                                                                 \
    if (!(condition)) ::rotor::detail::cuda_require_fail(op, message);                 \
  } while (0)

#define ROTOR_CUBLAS_CHECK(call)                                                       \
  do {                                                                                 \
    const cublasStatus_t rotor_cublas_status_ = (call);                                \
    if (rotor_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                 \
      ::rotor::detail::cublas_fail(rotor_cublas_status_, #call, __FILE__, __LINE__);   \
  } while (0)
