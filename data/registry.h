// Data sets by name, as the command line gives them:
//   fashion-mnist[:DIR]   IDX files (default DIR /usr/share/datasets/fashion-mnist,
//                         Debian's dataset-fashion-mnist)
//   mnist:DIR             IDX files
// (cifar10:DIR, cifar100:DIR, svhn:DIR and folder:DIR come with their loaders.)
#pragma once

#include <string>

#include "data/dataset.h"

namespace rotor {

DataSplit load_data(const std::string& spec);

}  // namespace rotor
