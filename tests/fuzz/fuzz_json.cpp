// libFuzzer: the JSON reader. Besides not crashing, a document it accepts
// must survive a write and a second read: dump(parse(dump(v))) == dump(v).
#include <cstdlib>
#include <string>

#include "engine/error.h"
#include "engine/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  rotor::Json v;
  try {
    v = rotor::Json::parse(text);
  } catch (const rotor::Error&) {
    return 0;
  }
  const std::string once = v.dump();
  std::string twice;
  try {
    twice = rotor::Json::parse(once).dump();
  } catch (const rotor::Error&) {
    std::abort();  // rotor wrote JSON it cannot read back
  }
  if (once != twice) std::abort();
  (void)v.dump(2);
  return 0;
}
