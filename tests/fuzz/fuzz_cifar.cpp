// libFuzzer: the CIFAR binary reader, with each of its three label layouts.
#include "data/cifar.h"
#include "engine/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = rotor::fuzz::scratch_dir() + "/data_batch.bin";
  rotor::fuzz::write_file(path, data, size);
  for (const rotor::CifarLabels labels :
       {rotor::CifarLabels::cifar10, rotor::CifarLabels::cifar100_fine, rotor::CifarLabels::cifar100_coarse}) {
    try {
      const rotor::Dataset d = rotor::read_cifar_file(path, labels);
      if (d.images.size() != static_cast<size_t>(d.size() * d.image_bytes())) std::abort();
    } catch (const rotor::Error&) {
    }
  }
  return 0;
}
