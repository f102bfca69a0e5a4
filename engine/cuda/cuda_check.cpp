// The error paths of ROTOR_CUDA_CHECK and ROTOR_CUBLAS_CHECK (cuda_check.h):
// compiled by the host compiler, so only this file formats the messages.
#include "engine/cuda/cuda_check.h"

#include "engine/error.h"

namespace rotor::detail {

void cuda_fail(cudaError_t error, const char* call, const char* file, int line) {
  fail("CUDA error {} ({}): {} in {} at {}:{}", static_cast<int>(error), cudaGetErrorName(error),
       cudaGetErrorString(error), call, file, line);
}

void cublas_fail(cublasStatus_t status, const char* call, const char* file, int line) {
  fail("cuBLAS error {} ({}) in {} at {}:{}", static_cast<int>(status), cublasGetStatusName(status), call, file,
       line);
}

void cuda_require_fail(const char* op, const char* message) { fail("{}: {}", op, message); }

}  // namespace rotor::detail
