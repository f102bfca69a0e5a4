// The CUB primitives that rotor's plumbing reductions use (the loss and
// accuracy tallies of softmax_ce.cu, the non-finite count of nonfinite.cu).
//
// Under nvcc this is CUB itself. The CPU emulation (tests/gpu/emulation)
// compiles the kernels with g++, which cannot compile CUB, so there it is
// emu_cub.h: a model of exactly these primitives, with CUB's contracts
// (TempStorage in __shared__, a block/warp result valid in thread/lane 0
// only). A kernel that needs another CUB primitive adds it to that model.
//   cub::BlockReduce<T, block_threads>   Sum(v), Reduce(v, op)
//   cub::WarpReduce<T>                   Sum(v), Reduce(v, op)
#pragma once

#ifdef __CUDACC__EMU
#include "tests/gpu/emulation/emu_cub.h"
#else
#include <cub/block/block_reduce.cuh>
#include <cub/warp/warp_reduce.cuh>
#endif
