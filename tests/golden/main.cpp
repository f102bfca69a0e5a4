// Runs the golden tests, or exits 77 (reported by ctest as skipped) when
// the reference cases are not present beside the checkout.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>

#include "tests/golden/golden_checks.h"

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) listing |= std::strncmp(argv[i], "--list", 6) == 0;
  if (!listing && !rotor::test::golden_available()) {
    std::printf("golden reference cases not found at %s (set ROTOR_GOLDEN_DIR): skipped\n",
                rotor::test::golden_dir().c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
