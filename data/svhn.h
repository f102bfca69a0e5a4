// SVHN cropped digits, format 2: train_32x32.mat and test_32x32.mat (MATLAB
// level-5 files, read by data/matfile.h). extra_32x32.mat is not used.
//
// X is 32x32x3xN uint8 in MATLAB's column-major order, so X(h, w, c, n) sits
// at h + 32w + 1024c + 3072n; each 32x32 plane is transposed into our
// (N, 3, 32, 32) row-major layout. y is Nx1 (double, or any numeric type)
// with labels 1..10, where 10 means the digit 0, so label 10 becomes class 0
// and classes are the digits themselves.
#pragma once

#include <string>

#include "data/dataset.h"

namespace rotor {

// One format-2 file as a Dataset of 3x32x32 images with labels 0..9.
Dataset read_svhn_file(const std::string& path);

// DIR holding train_32x32.mat and test_32x32.mat.
DataSplit load_svhn_dir(const std::string& dir, DataParts parts = DataParts::train_and_test);

}  // namespace rotor
