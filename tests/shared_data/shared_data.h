// Where the shared real data sets are: $ROTOR_DATASETS_DIR, else the folder
// configured at build time (../shared/datasets beside the checkout).
#pragma once

#include <cstdlib>
#include <string>

namespace rotor::test {

inline std::string datasets_dir() {
  const char* env = std::getenv("ROTOR_DATASETS_DIR");
  return env && *env ? env : ROTOR_DATASETS_DIR;
}

inline std::string cifar10_jpg_tarball() { return datasets_dir() + "/cifar10-jpg.tar.gz"; }

}  // namespace rotor::test
