// CIFAR-10 and CIFAR-100 in their official binary releases.
//
// A file is a run of fixed-size records: CIFAR-10 has one label byte, then
// 3072 pixel bytes; CIFAR-100 has a coarse label byte, a fine label byte, then
// the same 3072 pixels. The pixels are the R plane, then G, then B, each 32x32
// row-major, which is already our (C, H, W) layout, so a record's pixels are
// copied as they are. A file whose size is not a positive multiple of the
// record size is rejected before anything is read.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"

namespace rotor {

enum class CifarLabels {
  cifar10,          // 1 label byte, 10 classes
  cifar100_fine,    // coarse byte, fine byte: the fine label, 100 classes
  cifar100_coarse,  // coarse byte, fine byte: the coarse label, 20 classes
};

int64_t cifar_classes(CifarLabels labels);
int64_t cifar_record_bytes(CifarLabels labels);

// Reads one batch file (e.g. data_batch_1.bin, train.bin) as a Dataset of
// 3x32x32 images.
Dataset read_cifar_file(const std::string& path, CifarLabels labels);

// DIR holds the release's files (data_batch_1.bin .. data_batch_5.bin and
// test_batch.bin, or train.bin and test.bin), or is the parent of its
// cifar-10-batches-bin/ or cifar-100-binary/ folder. `name` is the --data
// kind ("cifar10", "cifar100", "cifar100-coarse"). CIFAR-100 class names
// come from fine_label_names.txt / coarse_label_names.txt when the folder
// has them, else from the built-in lists.
DataSplit load_cifar_dir(const std::string& dir, CifarLabels labels, const std::string& name,
                         DataParts parts = DataParts::train_and_test);

}  // namespace rotor
