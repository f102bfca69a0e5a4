// Helpers for the CUDA-vs-CPU twin tests: a CPU and a CUDA context side by
// side, host vectors to device tensors and back, random data, poison and
// tolerances.
//
// The pattern of every test: draw inputs on the host, run cpu::op<float> on
// host vectors and cuda::op on device copies of the same vectors, download
// and compare with REQUIRE_CLOSE. Input gradients are checked in both
// GradModes: assign starts the GPU buffer as NaN (an element the kernel
// forgets to write fails), accumulate starts both from the same known
// values. Parameter gradients start from the same random offsets (they
// always accumulate).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "tests/support/tolerance.h"

namespace rotor::test {

// FP32 unless a test asks for TF32: the twin tests hold the CUDA kernels
// to the CPU's FP32 results (the TF32 convolutions have their own tests,
// tests/gpu/test_gpu_conv_tf32.cpp, against a TF32-rounded reference).
inline ContextOptions cuda_context_options(Precision precision = Precision::fp32) {
  ContextOptions o;
  o.device = Device::cuda;
  o.precision = precision;
  return o;
}

// A CPU context (the reference) and a CUDA context.
struct Twins {
  explicit Twins(Precision precision = Precision::fp32) : gpu(cuda_context_options(precision)) {}
  Context cpu;
  Context gpu;
};

// A device copy of host values.
template <class T>
Tensor to_gpu(Context& gpu, const std::vector<T>& v) {
  Tensor t = Tensor::empty(gpu, Device::cuda, {static_cast<int64_t>(v.size())}, dtype_of<T>());
  copy_bytes(gpu, t.raw(), Device::cuda, v.data(), Device::cpu, v.size() * sizeof(T));
  return t;
}

template <class T>
std::vector<T> from_gpu(Context& gpu, const Tensor& t) {
  std::vector<T> v(static_cast<size_t>(t.numel()));
  copy_bytes(gpu, v.data(), Device::cpu, t.raw(), Device::cuda, v.size() * sizeof(T));
  return v;
}

inline float* fp(Tensor& t) { return t.numel() ? t.f32() : nullptr; }

inline std::vector<float> uniform(Rng& rng, size_t n, double lo, double hi) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(lo + (hi - lo) * rng.uniform());
  return v;
}

inline std::vector<float> normal(Rng& rng, size_t n, double mean = 0, double stddev = 1) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(mean + stddev * rng.normal());
  return v;
}

// Magnitudes in [lo, hi] with random signs (slopes and gammas away from 0).
inline std::vector<float> signed_magnitudes(Rng& rng, size_t n, double lo, double hi) {
  std::vector<float> v = uniform(rng, n, lo, hi);
  for (float& x : v)
    if (rng.uniform() < 0.5) x = -x;
  return v;
}

inline std::vector<float> nans(size_t n) { return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()); }

inline double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
  return m;
}

// |got - ref| <= tol * (max|ref| + 1e-30) + tol * |ref|: relative to the
// element and, for elements near zero, to the tensor's scale.
#define REQUIRE_TWIN(what, got, ref, tol)                                                                     \
  REQUIRE_CLOSE(what, got, ref, (tol) * std::max(::rotor::test::max_abs(ref), 1e-30), (tol))

inline const char* mode_name(GradMode m) { return m == GradMode::assign ? "assign" : "accumulate"; }

// Runs an input-gradient kernel on both sides in both modes and compares:
// cpu(mode, dx) and gpu(mode, dx_dev) write n values.
inline void require_grad_modes(Twins& t, const std::string& what, size_t n,
                               const std::function<void(GradMode, float*)>& cpu,
                               const std::function<void(GradMode, float*)>& gpu, double tol, uint64_t seed = 99) {
  Rng rng(seed);
  for (GradMode mode : {GradMode::assign, GradMode::accumulate}) {
    const std::vector<float> start = uniform(rng, n, -1, 1);
    std::vector<float> ref = mode == GradMode::assign ? uniform(rng, n, 5, 6) : start;  // junk or known values
    Tensor dev = to_gpu(t.gpu, mode == GradMode::assign ? nans(n) : start);
    cpu(mode, ref.data());
    gpu(mode, fp(dev));
    REQUIRE_TWIN(what + " (" + mode_name(mode) + ")", from_gpu<float>(t.gpu, dev), ref, tol);
  }
}

// Tolerances: elementwise kernels compute what the CPU computes, to float
// rounding; reductions and convolutions sum in another order.
constexpr double elementwise_tol = 1e-5;
constexpr double reduction_tol = 1e-4;

}  // namespace rotor::test
