// The Catch2 main of rotor_gpu_tests: exits 77 (ctest: skipped; 1 under
// ROTOR_REQUIRE_GPU=1, see require_gpu.h) when no
// usable CUDA GPU is present, except for --list* arguments, so that test
// discovery at build time works on machines without a GPU.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>

#include "engine/context.h"
#include "tests/gpu/require_gpu.h"

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) listing |= std::strncmp(argv[i], "--list", 6) == 0;
  if (!listing && rotor::cuda_device_count() == 0) return rotor::test::exit_without_gpu();
  return Catch::Session().run(argc, argv);
}
