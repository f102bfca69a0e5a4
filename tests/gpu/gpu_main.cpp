// The Catch2 main of rotor_gpu_tests: exits 77 (ctest: skipped) when no
// usable CUDA GPU is present, except for --list* arguments, so that test
// discovery at build time works on machines without a GPU.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>

#include "engine/context.h"

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) listing |= std::strncmp(argv[i], "--list", 6) == 0;
  if (!listing && rotor::cuda_device_count() == 0) {
    std::printf("no usable CUDA GPU on this machine: skipped\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
