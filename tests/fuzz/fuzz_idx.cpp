// libFuzzer: the IDX reader (raw, and gzip when the input starts with the
// gzip magic 1f 8b: zlib decides by the bytes, as it does for real files).
// Any rotor::Error is a correct answer; a crash, sanitizer report, leak or
// an allocation beyond libFuzzer's -rss_limit_mb/-malloc_limit_mb is a bug.
#include "data/idx.h"
#include "engine/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = rotor::fuzz::scratch_dir() + "/input-idx3-ubyte";
  rotor::fuzz::write_file(path, data, size);
  try {
    const rotor::IdxArray a = rotor::read_idx(path);
    size_t total = 1;
    for (int64_t d : a.dims) total *= static_cast<size_t>(d);
    if (total != a.data.size()) std::abort();  // the reader's own promise
  } catch (const rotor::Error&) {
  }
  return 0;
}
