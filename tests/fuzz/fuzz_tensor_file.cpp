// libFuzzer: the tensor-file container of model files and checkpoints, and
// the model description in its header. A mutated file almost never keeps a
// valid CRC-32, so the input is also parsed with its checksum recomputed:
// that is what reaches the header and tensor parsing.
#include <zlib.h>

#include <cstring>
#include <vector>

#include "engine/error.h"
#include "engine/tensor_file.h"
#include "models/model_file.h"

namespace {

void parse(const std::vector<char>& bytes) {
  try {
    const rotor::TensorFile f = rotor::parse_tensor_file(bytes, "fuzz.rotor");
    try {
      (void)rotor::read_model_spec(f, "fuzz.rotor");
    } catch (const rotor::Error&) {
    }
  } catch (const rotor::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<char> bytes(data, data + size);
  parse(bytes);
  if (size >= 4) {
    const uint32_t crc = static_cast<uint32_t>(crc32(0, data, static_cast<uInt>(size - 4)));
    std::memcpy(bytes.data() + size - 4, &crc, 4);
    parse(bytes);
  }
  return 0;
}
