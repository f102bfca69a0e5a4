#include "data/registry.h"

#include "data/cifar.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "data/svhn.h"
#include "engine/error.h"

namespace rotor {

static constexpr const char* fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

DataSplit load_data(const std::string& spec, int threads, DataParts parts) {
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string dir = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "fashion-mnist") return load_mnist_dir(dir.empty() ? fashion_mnist_default_dir : dir, kind, parts);
  const bool known =
      kind == "mnist" || kind == "cifar10" || kind == "cifar100" || kind == "cifar100-coarse" || kind == "svhn" ||
      kind == "folder";
  if (known) {
    ROTOR_CHECK(!dir.empty(), "--data {} needs a directory: {}:DIR", kind, kind);
    if (kind == "mnist") return load_mnist_dir(dir, kind, parts);
    if (kind == "cifar10") return load_cifar_dir(dir, CifarLabels::cifar10, kind, parts);
    if (kind == "cifar100") return load_cifar_dir(dir, CifarLabels::cifar100_fine, kind, parts);
    if (kind == "cifar100-coarse") return load_cifar_dir(dir, CifarLabels::cifar100_coarse, kind, parts);
    if (kind == "svhn") return load_svhn_dir(dir, parts);
    return load_image_folder(dir, threads, parts);
  }
  fail("unknown data set '{}': expected fashion-mnist[:DIR], mnist:DIR, cifar10:DIR, cifar100:DIR, "
       "cifar100-coarse:DIR, svhn:DIR or folder:DIR",
       spec);
}

}  // namespace rotor
