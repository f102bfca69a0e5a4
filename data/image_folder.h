// Image-folder data sets: DIR/train/<class>/* and DIR/test/<class>/*, one
// subfolder per class, any format stb_image reads (PNG, JPEG, BMP, ...).
//
// Classes are the subfolder names in sorted order (label = rank), and train
// and test must have the same set; files are taken in sorted name order, so a
// folder always loads the same way. Two passes over the files: the first
// reads only the headers (size and channel count) and fails on the first
// file whose size differs; the second decodes every image with one channel
// count, 3 if any image has colour, else 1. Both passes spread the files over
// `threads` threads (0: one per core). Hidden entries (names
// starting with '.') are ignored.
#pragma once

#include <string>

#include "data/dataset.h"

namespace rotor {

DataSplit load_image_folder(const std::string& dir, int threads = 0, DataParts parts = DataParts::train_and_test);

}  // namespace rotor
