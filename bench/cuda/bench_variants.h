// Alternative implementations that bench_cuda times beside the shipped
// kernels (comparison variants only; nothing in the engine calls them).
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/shapes.h"

namespace rotor::bench {

// col (N, C_in*KH*KW, Ho*Wo) = im2col of every image of x (N, C_in, H, W):
// the explicit buffer a cuBLAS-based convolution multiplies by the weights.
void im2col(cudaStream_t stream, const ConvShape& s, const float* x, float* col);

}  // namespace rotor::bench
