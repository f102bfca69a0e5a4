// The kernels of batch norm and of the fused batch norm + RReLU, shared by
// kernels/cuda/batch_norm.cu (ACT = false: plain batch norm),
// kernels/cuda/bn_rrelu.cu (ACT = true: y = b * max(0, BN(x)), b = 1
// without a slope) and kernels/cuda/bn_add_act.cu (ACT = ADD = true:
// y = b * max(0, BN(x) + r), a residual block's tail). One set of kernels
// templated on ACT and ADD, so the three ops cannot drift apart; each .cu
// instantiates only its own.
//
// Training forward, two launches:
//   stats_partial  grid (chunk, channel): Welford moments of each block's
//                  run of the channel -> workspace [C][chunks]
//   forward_apply  same grid: every block merges its channel's partials
//                  (fixed order, double; block 0 also writes save_mean,
//                  save_invstd and the running statistics), then writes y
// Backward, two launches, reading x and dy twice (z is recomputed):
//   backward_partial  sum dz, sum dz*xhat, sum dy*max(z,0) per block
//                     (ADD: also writes dr = dz, which needs no reduction)
//   backward_dx       merge (block 0 adds dgamma, dbeta, dslope), write dx
// With ADD every pass also reads r once, to recompute z = BN(x) + r.
// The second read of x (and dy) usually hits L2: a 128x16x32x32 tensor is
// 8 MB. Run with: build/tests/gpu/rotor_gpu_tests "[bn]"; timed by
// build/bench/cuda/bench_cuda bn_rrelu, batch_norm and bn_add_act.
#pragma once

#include "kernels/cuda/channel_reduce.cuh"

namespace rotor::cuda::detail::bn {

constexpr int unroll = 4;  // units per thread in flight

template <int V>
__global__ void __launch_bounds__(block_threads)
    bn_stats_partial(const float* __restrict__ x, ChannelGeom g, Moments<float>* __restrict__ partial) {
  const uint32_t c = blockIdx.y, chunk = blockIdx.x;
  const uint32_t begin = chunk * g.chunk_units, end = min(begin + g.chunk_units, g.units);
  Moments<float> w{0.0f, 0.0f, 0.0f};
  for (uint32_t u = begin + threadIdx.x; u < end; u += block_threads * unroll) {
    float v[unroll][V];
#pragma unroll
    for (int k = 0; k < unroll; ++k)
      if (u + k * block_threads < end) load_vec<V>(x + g.offset<V>(c, u + k * block_threads), v[k]);
#pragma unroll
    for (int k = 0; k < unroll; ++k)
      if (u + k * block_threads < end) moments_add<V>(w, v[k]);
  }
  w = block_merge(w);
  if (threadIdx.x == 0) partial[c * g.chunks + chunk] = w;
}

// Per-channel constants of the forward, computed by one warp and shared.
struct ForwardChannel {
  float mean, scale, shift, slope;
};

// r: the residual (ADD only; nullptr otherwise).
template <int V, bool ACT, bool ADD>
__device__ __forceinline__ void apply_channel(const float* __restrict__ x, const float* __restrict__ r,
                                              const ChannelGeom& g, uint32_t c, const ForwardChannel k,
                                              float* __restrict__ y, bool centred) {
  const uint32_t begin = blockIdx.x * g.chunk_units, end = min(begin + g.chunk_units, g.units);
  for (uint32_t u = begin + threadIdx.x; u < end; u += block_threads * unroll) {
    float v[unroll][V], rv[unroll][V];
#pragma unroll
    for (int j = 0; j < unroll; ++j) {
      if (u + j * block_threads >= end) continue;
      const uint32_t o = g.offset<V>(c, u + j * block_threads);
      load_vec<V>(x + o, v[j]);
      if (ADD) load_vec<V>(r + o, rv[j]);
    }
#pragma unroll
    for (int j = 0; j < unroll; ++j) {
      if (u + j * block_threads >= end) continue;
#pragma unroll
      for (int e = 0; e < V; ++e) {
        // Training: (x - mean) * scale + beta; evaluation: x * scale + shift
        // (each as its CPU twin writes it), then + r.
        float z = centred ? (v[j][e] - k.mean) * k.scale + k.shift : v[j][e] * k.scale + k.shift;
        if (ADD) z = __fadd_rn(z, rv[j][e]);  // a separate rounding: never folded into an FMA
        v[j][e] = ACT ? (z > 0.0f ? k.slope * z : 0.0f) : z;
      }
      store_vec<V>(y + g.offset<V>(c, u + j * block_threads), v[j]);
    }
  }
}

template <int V, bool ACT, bool ADD>
__global__ void __launch_bounds__(block_threads)
    bn_forward_apply(const float* __restrict__ x, const float* __restrict__ r, ChannelGeom g,
                     const Moments<float>* __restrict__ partial,
                     const float* __restrict__ gamma, const float* __restrict__ beta,
                     const float* __restrict__ slope, float* __restrict__ running_mean,
                     float* __restrict__ running_var, double momentum, double eps, float* __restrict__ y,
                     float* __restrict__ save_mean, float* __restrict__ save_invstd) {
  __shared__ ForwardChannel k;
  const uint32_t c = blockIdx.y;
  if (threadIdx.x < 32) {
    const Moments<double> m = merge_chunk_moments(partial + c * g.chunks, g.chunks);
    if (threadIdx.x == 0) {
      const double count = m.n, var_biased = m.m2 / count;
      const double invstd = 1.0 / sqrt(var_biased + eps);
      k.mean = static_cast<float>(m.mean);
      k.scale = static_cast<float>(gamma[c] * invstd);
      k.shift = beta[c];
      k.slope = ACT && slope ? slope[c] : 1.0f;
      if (blockIdx.x == 0) {
        // Exactly the CPU's expressions (kernels/cpu/channel_stats.h).
        save_mean[c] = static_cast<float>(m.mean);
        save_invstd[c] = static_cast<float>(invstd);
        if (running_mean) running_mean[c] = static_cast<float>((1 - momentum) * running_mean[c] + momentum * m.mean);
        if (running_var)
          running_var[c] =
              static_cast<float>((1 - momentum) * running_var[c] + momentum * var_biased * count / (count - 1));
      }
    }
  }
  __syncthreads();
  apply_channel<V, ACT, ADD>(x, r, g, c, k, y, true);
}

template <int V, bool ACT, bool ADD>
__global__ void __launch_bounds__(block_threads)
    bn_forward_eval(const float* __restrict__ x, const float* __restrict__ r, ChannelGeom g,
                    const float* __restrict__ gamma,
                    const float* __restrict__ beta, const float* __restrict__ slope,
                    const float* __restrict__ running_mean, const float* __restrict__ running_var, double eps,
                    float* __restrict__ y) {
  __shared__ ForwardChannel k;
  const uint32_t c = blockIdx.y;
  if (threadIdx.x == 0) {
    const double scale = gamma[c] / sqrt(static_cast<double>(running_var[c]) + eps);
    k.mean = 0.0f;
    k.scale = static_cast<float>(scale);
    k.shift = static_cast<float>(beta[c] - running_mean[c] * scale);
    k.slope = ACT && slope ? slope[c] : 1.0f;
  }
  __syncthreads();
  apply_channel<V, ACT, ADD>(x, r, g, c, k, y, false);
}

// Per-channel constants of the backward.
struct BackwardChannel {
  float mean, invstd, gamma, beta, slope;
};

__device__ __forceinline__ BackwardChannel backward_channel(uint32_t c, const float* gamma, const float* beta,
                                                            const float* slope, const float* save_mean,
                                                            const float* save_invstd, bool act) {
  return {save_mean[c], save_invstd[c], gamma[c], act ? beta[c] : 0.0f, act && slope ? slope[c] : 1.0f};
}

// dz (the gradient at the batch-norm output, or with ADD at BN(x) + r) of
// one value, and whether the activation passed it. z = gamma * xhat + beta
// (+ r) is recomputed from x (and r).
template <bool ACT, bool ADD>
__device__ __forceinline__ float grad_z(const BackwardChannel& k, float xhat, float r, float dy, float& z, bool& on) {
  if (!ACT) {
    on = true;
    z = 0.0f;
    return dy;
  }
  z = k.gamma * xhat + k.beta;
  if (ADD) z = __fadd_rn(z, r);
  on = z > 0.0f;
  return on ? dy * k.slope : 0.0f;
}

// ADD: r is the residual and dr (nullable) its gradient [dr_accumulate].
template <int V, bool ACT, bool ADD>
__global__ void __launch_bounds__(block_threads)
    bn_backward_partial(const float* __restrict__ x, const float* __restrict__ r, const float* __restrict__ dy,
                        ChannelGeom g, const float* __restrict__ gamma, const float* __restrict__ beta,
                        const float* __restrict__ slope, const float* __restrict__ save_mean,
                        const float* __restrict__ save_invstd, Sums<3>* __restrict__ partial,
                        float* __restrict__ dr, bool dr_accumulate) {
  __shared__ float smem[warps_per_block * 3];
  const uint32_t c = blockIdx.y, chunk = blockIdx.x;
  const BackwardChannel k = backward_channel(c, gamma, beta, slope, save_mean, save_invstd, ACT);
  const uint32_t begin = chunk * g.chunk_units, end = min(begin + g.chunk_units, g.units);
  float s[3] = {0.0f, 0.0f, 0.0f};  // sum dz, sum dz * xhat, sum dy * max(z, 0)
  for (uint32_t u = begin + threadIdx.x; u < end; u += block_threads * unroll) {
    float xv[unroll][V], dv[unroll][V], rv[unroll][V];
#pragma unroll
    for (int j = 0; j < unroll; ++j) {
      if (u + j * block_threads >= end) continue;
      const uint32_t o = g.offset<V>(c, u + j * block_threads);
      load_vec<V>(x + o, xv[j]);
      load_vec<V>(dy + o, dv[j]);
      if (ADD) load_vec<V>(r + o, rv[j]);
    }
#pragma unroll
    for (int j = 0; j < unroll; ++j) {
      if (u + j * block_threads >= end) continue;
      float dzv[V];
#pragma unroll
      for (int e = 0; e < V; ++e) {
        const float xhat = (xv[j][e] - k.mean) * k.invstd;
        float z;
        bool on;
        const float dz = grad_z<ACT, ADD>(k, xhat, ADD ? rv[j][e] : 0.0f, dv[j][e], z, on);
        dzv[e] = dz;
        s[0] += dz;
        s[1] += dz * xhat;
        if (ACT && on) s[2] += dv[j][e] * z;
      }
      if (ADD && dr) {
        // dr = dz: the residual's gradient, written where it belongs.
        const uint32_t o = g.offset<V>(c, u + j * block_threads);
        float out[V];
        if (dr_accumulate) {
          load_vec_rw<V>(dr + o, out);
#pragma unroll
          for (int e = 0; e < V; ++e) out[e] += dzv[e];
        } else {
#pragma unroll
          for (int e = 0; e < V; ++e) out[e] = dzv[e];
        }
        store_vec<V>(dr + o, out);
      }
    }
  }
  block_sum<3>(s, smem);
  if (threadIdx.x == 0) partial[c * g.chunks + chunk] = Sums<3>{{s[0], s[1], s[2]}};
}

template <int V, bool ACT, bool ADD>
__global__ void __launch_bounds__(block_threads)
    bn_backward_dx(const float* __restrict__ x, const float* __restrict__ r, const float* __restrict__ dy,
                   ChannelGeom g,
                   const float* __restrict__ gamma, const float* __restrict__ beta, const float* __restrict__ slope,
                   const float* __restrict__ save_mean, const float* __restrict__ save_invstd,
                   const Sums<3>* __restrict__ partial, float* __restrict__ dx, bool accumulate,
                   float* __restrict__ dgamma, float* __restrict__ dbeta, float* __restrict__ dslope) {
  __shared__ float coef[2];  // sum dz / M, sum dz*xhat / M
  const uint32_t c = blockIdx.y;
  if (threadIdx.x < 32) {
    double sums[3];
    merge_chunk_sums<3>(partial + c * g.chunks, g.chunks, sums);
    if (threadIdx.x == 0) {
      if (blockIdx.x == 0) {
        // Parameter gradients accumulate (+=), written once per channel.
        if (dgamma) dgamma[c] += static_cast<float>(sums[1]);
        if (dbeta) dbeta[c] += static_cast<float>(sums[0]);
        if (ACT && dslope) dslope[c] += static_cast<float>(sums[2]);
      }
      const double count = g.per_channel;
      coef[0] = static_cast<float>(sums[0] / count);
      coef[1] = static_cast<float>(sums[1] / count);
    }
  }
  __syncthreads();
  if (!dx) return;
  const BackwardChannel k = backward_channel(c, gamma, beta, slope, save_mean, save_invstd, ACT);
  const float gi = k.gamma * k.invstd, mean_dz = coef[0], mean_dz_xhat = coef[1];
  const uint32_t begin = blockIdx.x * g.chunk_units, end = min(begin + g.chunk_units, g.units);
  for (uint32_t u = begin + threadIdx.x; u < end; u += block_threads * unroll) {
    float xv[unroll][V], dv[unroll][V], rv[unroll][V];
#pragma unroll
    for (int j = 0; j < unroll; ++j) {
      if (u + j * block_threads >= end) continue;
      const uint32_t o = g.offset<V>(c, u + j * block_threads);
      load_vec<V>(x + o, xv[j]);
      load_vec<V>(dy + o, dv[j]);
      if (ADD) load_vec<V>(r + o, rv[j]);
    }
#pragma unroll
    for (int j = 0; j < unroll; ++j) {
      if (u + j * block_threads >= end) continue;
      const uint32_t o = g.offset<V>(c, u + j * block_threads);
      float out[V];
      if (accumulate) load_vec_rw<V>(dx + o, out);
#pragma unroll
      for (int e = 0; e < V; ++e) {
        const float xhat = (xv[j][e] - k.mean) * k.invstd;
        float z;
        bool on;
        const float dz = grad_z<ACT, ADD>(k, xhat, ADD ? rv[j][e] : 0.0f, dv[j][e], z, on);
        // dx = gamma * invstd * (dz - mean(dz) - xhat * mean(dz * xhat))
        const float v = gi * (dz - mean_dz - xhat * mean_dz_xhat);
        out[e] = accumulate ? out[e] + v : v;
      }
      store_vec<V>(dx + o, out);
    }
  }
}

// ---- host side -----------------------------------------------------------
// r (the residual) and dr are read only when ADD; pass nullptr otherwise.

template <bool ACT, bool ADD = false>
void forward_train(Context& ctx, const ChannelShape& s, const float* x, const float* r, const float* gamma,
                   const float* beta, const float* slope, float* running_mean, float* running_var, double momentum,
                   double eps, float* y, float* save_mean, float* save_invstd, const char* op) {
  if (s.numel() == 0) return;
  const int v = channel_vector_width(s, {x, r, y});
  const ChannelGeom g = channel_geom(ctx, s, v, op);
  auto* partial = workspace_as<Moments<float>>(ctx, size_t(g.c) * g.chunks);
  const cudaStream_t st = stream_of(ctx);
  if (v == 4) {
    bn_stats_partial<4><<<g.grid(), block_threads, 0, st>>>(x, g, partial);
    ROTOR_CUDA_CHECK_LAUNCH();
    bn_forward_apply<4, ACT, ADD><<<g.grid(), block_threads, 0, st>>>(x, r, g, partial, gamma, beta, slope,
                                                                      running_mean, running_var, momentum, eps, y,
                                                                      save_mean, save_invstd);
  } else {
    bn_stats_partial<1><<<g.grid(), block_threads, 0, st>>>(x, g, partial);
    ROTOR_CUDA_CHECK_LAUNCH();
    bn_forward_apply<1, ACT, ADD><<<g.grid(), block_threads, 0, st>>>(x, r, g, partial, gamma, beta, slope,
                                                                      running_mean, running_var, momentum, eps, y,
                                                                      save_mean, save_invstd);
  }
  ROTOR_CUDA_CHECK_LAUNCH();
}

template <bool ACT, bool ADD = false>
void forward_eval(Context& ctx, const ChannelShape& s, const float* x, const float* r, const float* gamma,
                  const float* beta, const float* slope, const float* running_mean, const float* running_var,
                  double eps, float* y, const char* op) {
  if (s.numel() == 0) return;
  const int v = channel_vector_width(s, {x, r, y});
  const ChannelGeom g = channel_geom(ctx, s, v, op);
  const cudaStream_t st = stream_of(ctx);
  if (v == 4)
    bn_forward_eval<4, ACT, ADD><<<g.grid(), block_threads, 0, st>>>(x, r, g, gamma, beta, slope, running_mean,
                                                                     running_var, eps, y);
  else
    bn_forward_eval<1, ACT, ADD><<<g.grid(), block_threads, 0, st>>>(x, r, g, gamma, beta, slope, running_mean,
                                                                     running_var, eps, y);
  ROTOR_CUDA_CHECK_LAUNCH();
}

template <bool ACT, bool ADD = false>
void backward(Context& ctx, const ChannelShape& s, const float* x, const float* r, const float* dy,
              const float* gamma, const float* beta, const float* slope, const float* save_mean,
              const float* save_invstd, float* dx, GradMode mode, float* dr, GradMode dr_mode, float* dgamma,
              float* dbeta, float* dslope, const char* op) {
  if (!ACT) dslope = nullptr;
  if (!ADD) dr = nullptr;
  if (s.numel() == 0 || (!dx && !dr && !dgamma && !dbeta && !dslope)) return;
  const int v = channel_vector_width(s, {x, r, dy, dx, dr});
  const ChannelGeom g = channel_geom(ctx, s, v, op);
  auto* partial = workspace_as<Sums<3>>(ctx, size_t(g.c) * g.chunks);
  const cudaStream_t st = stream_of(ctx);
  const bool acc = mode == GradMode::accumulate, dr_acc = dr_mode == GradMode::accumulate;
  // Without dx only the merge runs: one block per channel.
  const dim3 dx_grid(dx ? g.chunks : 1, g.c);
  if (v == 4) {
    bn_backward_partial<4, ACT, ADD><<<g.grid(), block_threads, 0, st>>>(x, r, dy, g, gamma, beta, slope, save_mean,
                                                                         save_invstd, partial, dr, dr_acc);
    ROTOR_CUDA_CHECK_LAUNCH();
    bn_backward_dx<4, ACT, ADD><<<dx_grid, block_threads, 0, st>>>(x, r, dy, g, gamma, beta, slope, save_mean,
                                                                   save_invstd, partial, dx, acc, dgamma, dbeta,
                                                                   dslope);
  } else {
    bn_backward_partial<1, ACT, ADD><<<g.grid(), block_threads, 0, st>>>(x, r, dy, g, gamma, beta, slope, save_mean,
                                                                         save_invstd, partial, dr, dr_acc);
    ROTOR_CUDA_CHECK_LAUNCH();
    bn_backward_dx<1, ACT, ADD><<<dx_grid, block_threads, 0, st>>>(x, r, dy, g, gamma, beta, slope, save_mean,
                                                                   save_invstd, partial, dx, acc, dgamma, dbeta,
                                                                   dslope);
  }
  ROTOR_CUDA_CHECK_LAUNCH();
}

}  // namespace rotor::cuda::detail::bn
