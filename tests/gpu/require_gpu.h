// What a GPU test binary does when no GPU is usable: ctest's "skipped"
// (exit 77) on a development machine, but a failure (exit 1) where one is
// required (ROTOR_REQUIRE_GPU=1, set by bench/gpu-check.sh), so that a GPU
// machine whose driver cannot run this build never reads as all-skipped.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/context.h"

namespace rotor::test {

inline int exit_without_gpu() {
  const std::string reason = cuda_unavailable_reason();
  const char* required = std::getenv("ROTOR_REQUIRE_GPU");
  if (required && std::strcmp(required, "1") == 0) {
    std::printf("ROTOR_REQUIRE_GPU=1 but %s: failed\n", reason.c_str());
    return 1;
  }
  std::printf("%s: skipped\n", reason.c_str());
  return 77;
}

}  // namespace rotor::test
