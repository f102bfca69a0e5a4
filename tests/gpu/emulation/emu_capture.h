// Stream capture in the CUDA emulation (engine/cuda_graph.h's model): while
// emu::capture is set (between cuda_begin_capture and cuda_end_capture of
// fake_backend.cpp), kernel launches (cuda_emu.h), cuBLAS calls and
// device-to-device copies are appended to it instead of run, as a real
// capture records without executing; a graph launch runs them in order.
// Launches keep copies of their arguments (transform.py's lambdas capture
// by value), as a real graph keeps the arguments it was captured with.
// The emulation has one stream, so one capture at a time (an inline
// variable shared by the kernels and the fake backend; test code only).
#pragma once

#include <functional>
#include <vector>

namespace emu {
inline std::vector<std::function<void()>>* capture = nullptr;
}  // namespace emu
