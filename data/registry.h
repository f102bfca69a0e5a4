// Data sets by name, as the command line gives them:
//   fashion-mnist[:DIR]   IDX files (default DIR /usr/share/datasets/fashion-mnist,
//                         Debian's dataset-fashion-mnist)
//   mnist:DIR             IDX files
//   cifar10:DIR           CIFAR-10 binary release (data_batch_1.bin .. test_batch.bin)
//   cifar100:DIR          CIFAR-100 binary release (train.bin, test.bin), 100 fine labels
//   cifar100-coarse:DIR   the same files, 20 coarse labels
//   svhn:DIR              SVHN cropped digits, format 2 (train_32x32.mat, test_32x32.mat)
//   folder:DIR            image folders DIR/train/<class>/*, DIR/test/<class>/* (PNG, JPEG, ...)
// For CIFAR, DIR may also be the parent of the release's cifar-10-batches-bin/
// or cifar-100-binary/ folder. CIFAR and image folders are natural images
// (crop + flip augmentation on by default); digit sets are not.
#pragma once

#include <string>

#include "data/dataset.h"

namespace rotor {

// threads: decoding threads for image folders (0: one per core); the other
// formats read on the calling thread. parts: test_only reads (and requires)
// only the test files.
DataSplit load_data(const std::string& spec, int threads = 0, DataParts parts = DataParts::train_and_test);

}  // namespace rotor
