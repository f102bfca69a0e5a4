// libFuzzer: the MAT-5 reader and the SVHN loader on top of it.
#include "data/matfile.h"
#include "data/svhn.h"
#include "engine/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = rotor::fuzz::scratch_dir() + "/test_32x32.mat";
  rotor::fuzz::write_file(path, data, size);
  try {
    const rotor::MatFile file = rotor::read_mat_file(path);
    for (const rotor::MatArray& a : file.arrays)
      if (a.is_numeric()) (void)rotor::mat_values(a, path);
  } catch (const rotor::Error&) {
  }
  try {
    (void)rotor::read_svhn_file(path);
  } catch (const rotor::Error&) {
  }
  return 0;
}
