#include "data/registry.h"

#include "data/idx.h"
#include "engine/error.h"

namespace rotor {

static constexpr const char* fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

DataSplit load_data(const std::string& spec) {
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string dir = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "fashion-mnist") return load_mnist_dir(dir.empty() ? fashion_mnist_default_dir : dir, kind);
  if (kind == "mnist") {
    ROTOR_CHECK(!dir.empty(), "--data mnist needs a directory: mnist:DIR");
    return load_mnist_dir(dir, kind);
  }
  fail("unknown data set '{}': expected fashion-mnist[:DIR] or mnist:DIR", spec);
}

}  // namespace rotor
