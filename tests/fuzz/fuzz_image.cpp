// libFuzzer: the image-folder loader (stb_image behind it) on a folder whose
// four images (two classes, train and test) are all the input, so that
// header checks and full decoding both run.
#include <unistd.h>

#include <filesystem>

#include "data/image_folder.h"
#include "engine/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const std::string d = rotor::fuzz::scratch_dir() + "/folder";
    const std::string first = d + "/train/a/img";
    for (const char* sub : {"/train/a", "/train/b", "/test/a", "/test/b"}) std::filesystem::create_directories(d + sub);
    rotor::fuzz::write_file(first, nullptr, 0);
    for (const char* other : {"/train/b/img", "/test/a/img", "/test/b/img"})
      if (::link(first.c_str(), (d + other).c_str()) != 0) std::abort();
    return d;
  }();
  rotor::fuzz::write_file(dir + "/train/a/img", data, size);
  try {
    const rotor::DataSplit s = rotor::load_image_folder(dir, 1);
    if (s.train.size() != 2 || s.test.size() != 2) std::abort();
  } catch (const rotor::Error&) {
  }
  return 0;
}
