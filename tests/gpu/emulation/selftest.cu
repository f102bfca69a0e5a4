// The emulation checking itself (selftest.sh): a CUB result read outside
// thread 0 is NaN, launches over the sm_75/sm_90 limits abort naming the
// kernel, and (fibers) a block whose threads wait at different barriers
// aborts naming the kernel. Compiled through transform.py + cuda_emu.h like a kernel file.
#include "kernels/cuda/cub_include.cuh"
#include <cstdio>
#include <cstring>
#include <cmath>
#include <cstdlib>
// The launch counter lives in fake_backend.cpp, which this lone program
// does not link; it counts nothing here.
extern "C" void rotor_emu_note_launch() {}
constexpr int bt = 64;
__global__ void sum_kernel(const float* x, float* out, int reader) {
  using B = cub::BlockReduce<float, bt>;
  __shared__ typename B::TempStorage temp;
  const float s = B(temp).Sum(x[threadIdx.x]);
  if (threadIdx.x == reader) out[0] = s;
}
// Lane 0 waits at a shuffle for lanes that wait at __syncthreads for it:
// it hangs a GPU; the fibers (-DEMU_FIBERS) abort saying so.
__global__ void deadlock_kernel(float* out) {
  float v = 1.0f;
  if (threadIdx.x == 0) {
    v = __shfl_xor_sync(~0u, v, 1);
  } else {
    __syncthreads();
  }
  out[0] = v;
}
__global__ void big_shared_kernel(float* out) {
  __shared__ float tile[13000];  // 52,000 bytes > 48 KB
  tile[threadIdx.x] = 1.0f;
  __syncthreads();
  if (threadIdx.x == 0) out[0] = tile[1];
}
int main(int argc, char** argv) {
  float x[bt], out = 0;
  for (int i = 0; i < bt; ++i) x[i] = float(i);
  // A pointer, as a real launch passes: the emulated launch copies its
  // arguments ([=], so that a captured graph can replay them), and &out
  // taken inside that copy would be const.
  float* const out_dev = &out;
  const int reader = std::atoi(argv[1]);
  if (reader >= 0) {
    sum_kernel<<<1, bt, 0, 0>>>(x, out_dev, reader);
    std::printf("sum read by thread %d: %g\n", reader, out);
  } else if (reader == -1) {
    big_shared_kernel<<<1, 64, 0, 0>>>(out_dev);
  } else if (reader == -2) {
    sum_kernel<<<dim3(1, 70000), bt, 0, 0>>>(x, out_dev, 0);
  } else if (reader == -4) {
    deadlock_kernel<<<1, 64, 0, 0>>>(out_dev);
  } else {
    big_shared_kernel<<<1, 64, 1024, 0>>>(out_dev);
  }
  return 0;
}
