// Runs the tests on the shared real data sets (see ../shared/datasets/README.md),
// or exits 77 (reported by ctest as skipped) when they are absent.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "tests/shared_data/shared_data.h"

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) listing |= std::strncmp(argv[i], "--list", 6) == 0;
  std::error_code ec;
  if (!listing && !std::filesystem::is_regular_file(rotor::test::cifar10_jpg_tarball(), ec)) {
    std::printf("shared data set %s not found (set ROTOR_DATASETS_DIR): skipped\n",
                rotor::test::cifar10_jpg_tarball().c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
