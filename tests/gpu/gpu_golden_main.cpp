// Runs the golden cases on a CUDA context, or exits 77 (ctest: skipped)
// when there is no usable GPU or the reference cases are not present.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>

#include "engine/context.h"
#include "tests/gpu/require_gpu.h"
#include "tests/golden/golden_checks.h"

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) listing |= std::strncmp(argv[i], "--list", 6) == 0;
  if (!listing && rotor::cuda_device_count() == 0) return rotor::test::exit_without_gpu();
  if (!listing && !rotor::test::golden_available()) {
    std::printf("golden reference cases not found at %s (set ROTOR_GOLDEN_DIR): skipped\n",
                rotor::test::golden_dir().c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
