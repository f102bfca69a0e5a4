// The ONNX exporter of a build without libonnx-dev / libprotobuf-dev.
#include "engine/error.h"
#include "models/onnx_export.h"

namespace rotor {

bool onnx_compiled() { return false; }

void write_onnx_file(Context&, Model&, const std::string& path, bool) {
  fail("cannot write {}: rotor was built without ONNX support (install libonnx-dev and libprotobuf-dev, "
       "e.g. with scripts/setup.sh, and configure the build again)",
       path);
}

}  // namespace rotor
