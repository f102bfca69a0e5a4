// Device: where a tensor lives and where an op runs.
#pragma once

#include <string>

namespace rotor {

enum class Device { cpu, cuda };

inline const char* device_name(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

// True when this build contains the CUDA backend (it may still find no GPU).
bool cuda_compiled();

}  // namespace rotor
