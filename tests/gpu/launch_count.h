// The number of kernel launches so far, where it can be counted: under the
// CUDA emulation (tests/gpu/emulation), whose emu::launch counts every
// <<<>>> launch. A real GPU build has no counter (counting there needs
// CUPTI or a captured graph): the symbol is weak and absent, and
// launch_count() says so with std::nullopt.
#pragma once

#include <cstdint>
#include <optional>

extern "C" uint64_t rotor_emu_launch_count() __attribute__((weak));

namespace rotor::test {

inline std::optional<uint64_t> launch_count() {
  if (!rotor_emu_launch_count) return std::nullopt;
  return rotor_emu_launch_count();
}

}  // namespace rotor::test
