// Channel subsets of NCHW tensors, for physically pruned residual networks:
// a block reads only the live channels of the residual stream and writes its
// (narrower) branch into chosen stream channels.
//
//   gather   y (N, K, HW) = x[:, index[k], :]               x (N, C, HW)
//            backward: dx[:, index[k]] (+)= dy[:, k]; other channels of dx
//            are zeroed in assign mode
//   add_into y (N, C, HW) = base; y[:, index[k]] += part[:, k]   part (N, K, HW)
//            backward: dbase = dy [mode]; dpart = dy[:, index] [mode]
// Indices are int32, distinct, in [0, C) (validated where a pruned model is
// built from its spec).
#pragma once

#include <cstdint>

#include "kernels/shapes.h"

namespace rotor {
class Context;

struct ChannelSubset {
  int64_t n = 0, c = 0, hw = 1;  // the full tensor
  int64_t k = 0;                 // the subset
};

namespace cpu {
template <class T>
void channel_gather(Context& ctx, const ChannelSubset& s, const T* x, const int32_t* index, T* y);
template <class T>
void channel_gather_backward(Context& ctx, const ChannelSubset& s, const T* dy, const int32_t* index, T* dx,
                             GradMode mode);
template <class T>
void channel_add_into(Context& ctx, const ChannelSubset& s, const T* base, const T* part, const int32_t* index, T* y);
}  // namespace cpu

#if ROTOR_HAVE_CUDA
namespace cuda {
void channel_gather(Context& ctx, const ChannelSubset& s, const float* x, const int32_t* index, float* y);
void channel_gather_backward(Context& ctx, const ChannelSubset& s, const float* dy, const int32_t* index, float* dx,
                             GradMode mode);
void channel_add_into(Context& ctx, const ChannelSubset& s, const float* base, const float* part,
                      const int32_t* index, float* y);
}  // namespace cuda
#endif

}  // namespace rotor
