#include "data/cifar.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/error.h"

namespace fs = std::filesystem;

namespace rotor {
namespace {

constexpr int64_t cifar_side = 32, cifar_channels = 3;
constexpr int64_t cifar_pixels = cifar_channels * cifar_side * cifar_side;  // 3072

const std::vector<std::string>& builtin_names(CifarLabels labels) {
  static const std::vector<std::string> cifar10 = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                   "dog",      "frog",       "horse", "ship", "truck"};
  static const std::vector<std::string> fine = {
      "apple",       "aquarium_fish", "baby",         "bear",       "beaver",     "bed",        "bee",
      "beetle",      "bicycle",       "bottle",       "bowl",       "boy",        "bridge",     "bus",
      "butterfly",   "camel",         "can",          "castle",     "caterpillar", "cattle",    "chair",
      "chimpanzee",  "clock",         "cloud",        "cockroach",  "couch",      "crab",       "crocodile",
      "cup",         "dinosaur",      "dolphin",      "elephant",   "flatfish",   "forest",     "fox",
      "girl",        "hamster",       "house",        "kangaroo",   "keyboard",   "lamp",       "lawn_mower",
      "leopard",     "lion",          "lizard",       "lobster",    "man",        "maple_tree", "motorcycle",
      "mountain",    "mouse",         "mushroom",     "oak_tree",   "orange",     "orchid",     "otter",
      "palm_tree",   "pear",          "pickup_truck", "pine_tree",  "plain",      "plate",      "poppy",
      "porcupine",   "possum",        "rabbit",       "raccoon",    "ray",        "road",       "rocket",
      "rose",        "sea",           "seal",         "shark",      "shrew",      "skunk",      "skyscraper",
      "snail",       "snake",         "spider",       "squirrel",   "streetcar",  "sunflower",  "sweet_pepper",
      "table",       "tank",          "telephone",    "television", "tiger",      "tractor",    "train",
      "trout",       "tulip",         "turtle",       "wardrobe",   "whale",      "willow_tree", "wolf",
      "woman",       "worm"};
  static const std::vector<std::string> coarse = {"aquatic_mammals",
                                                  "fish",
                                                  "flowers",
                                                  "food_containers",
                                                  "fruit_and_vegetables",
                                                  "household_electrical_devices",
                                                  "household_furniture",
                                                  "insects",
                                                  "large_carnivores",
                                                  "large_man-made_outdoor_things",
                                                  "large_natural_outdoor_scenes",
                                                  "large_omnivores_and_herbivores",
                                                  "medium_mammals",
                                                  "non-insect_invertebrates",
                                                  "people",
                                                  "reptiles",
                                                  "small_mammals",
                                                  "trees",
                                                  "vehicles_1",
                                                  "vehicles_2"};
  switch (labels) {
    case CifarLabels::cifar10: return cifar10;
    case CifarLabels::cifar100_fine: return fine;
    case CifarLabels::cifar100_coarse: return coarse;
  }
  fail("unknown CIFAR label kind");
}

// The release's label-name file, one name a line (blank lines and trailing
// whitespace ignored); the built-in list when the file is absent.
std::vector<std::string> class_names(const std::string& dir, CifarLabels labels) {
  const char* file = labels == CifarLabels::cifar10           ? "batches.meta.txt"
                     : labels == CifarLabels::cifar100_coarse ? "coarse_label_names.txt"
                                                              : "fine_label_names.txt";
  const std::string path = dir + "/" + file;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return builtin_names(labels);
  std::ifstream in(path);
  ROTOR_CHECK(in.good(), "cannot open {}: {}", path, std::strerror(errno));
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  ROTOR_CHECK(static_cast<int64_t>(names.size()) == cifar_classes(labels), "{}: {} class names, expected {}", path,
              names.size(), cifar_classes(labels));
  return names;
}

void append(Dataset& to, Dataset&& from) {
  to.images.insert(to.images.end(), from.images.begin(), from.images.end());
  to.labels.insert(to.labels.end(), from.labels.begin(), from.labels.end());
}

}  // namespace

int64_t cifar_classes(CifarLabels labels) {
  return labels == CifarLabels::cifar10 ? 10 : labels == CifarLabels::cifar100_fine ? 100 : 20;
}

int64_t cifar_record_bytes(CifarLabels labels) {
  return (labels == CifarLabels::cifar10 ? 1 : 2) + cifar_pixels;
}

Dataset read_cifar_file(const std::string& path, CifarLabels labels) {
  std::error_code ec;
  ROTOR_CHECK(fs::is_regular_file(path, ec), "missing CIFAR file {}", path);
  const uintmax_t size = fs::file_size(path, ec);
  ROTOR_CHECK(!ec, "cannot read the size of {}: {}", path, ec.message());
  const int64_t record = cifar_record_bytes(labels);
  ROTOR_CHECK(size > 0 && size % record == 0,
              "{}: size {} bytes is not a positive multiple of the {}-byte record ({} label byte{} + 3072 pixels); "
              "the file is truncated or not a {} binary file",
              path, size, record, record - cifar_pixels, record - cifar_pixels == 1 ? "" : "s",
              labels == CifarLabels::cifar10 ? "CIFAR-10" : "CIFAR-100");
  const int64_t n = static_cast<int64_t>(size) / record;
  std::vector<uint8_t> bytes(size);
  std::ifstream in(path, std::ios::binary);
  ROTOR_CHECK(in.good(), "cannot open {}: {}", path, std::strerror(errno));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  ROTOR_CHECK(in.gcount() == static_cast<std::streamsize>(size), "{}: truncated while reading: got {} of {} bytes",
              path, in.gcount(), size);

  // Label byte offset within a record: CIFAR-100 puts coarse before fine.
  const int64_t label_at = labels == CifarLabels::cifar100_fine ? 1 : 0;
  const int64_t classes = cifar_classes(labels);
  Dataset d;
  d.channels = cifar_channels;
  d.height = d.width = cifar_side;
  d.images.resize(n * cifar_pixels);
  d.labels.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* r = bytes.data() + i * record;
    const int label = r[label_at];
    ROTOR_CHECK(label < classes, "{}: record {} has {}label {}, expected below {}", path, i,
                labels == CifarLabels::cifar100_fine     ? "fine "
                : labels == CifarLabels::cifar100_coarse ? "coarse "
                                                         : "",
                label, classes);
    d.labels[i] = label;
    std::memcpy(d.images.data() + i * cifar_pixels, r + record - cifar_pixels, cifar_pixels);
  }
  return d;
}

DataSplit load_cifar_dir(const std::string& dir, CifarLabels labels, const std::string& name, DataParts parts) {
  const bool ten = labels == CifarLabels::cifar10;
  const std::string what = name + ":" + dir;
  const std::string subfolder = ten ? "cifar-10-batches-bin" : "cifar-100-binary";
  const std::vector<std::string> train_files =
      ten ? std::vector<std::string>{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                                     "data_batch_5.bin"}
          : std::vector<std::string>{"train.bin"};
  const std::string test_file = ten ? "test_batch.bin" : "test.bin";

  std::error_code ec;
  ROTOR_CHECK(fs::is_directory(dir, ec), "{}: {} is not a directory", what, dir);
  // DIR may be the folder with the files or the parent of the release's folder.
  const bool with_train = parts == DataParts::train_and_test;
  const std::string& first_file = with_train ? train_files[0] : test_file;
  std::string root = dir;
  if (!fs::exists(dir + "/" + first_file, ec) && fs::is_directory(dir + "/" + subfolder, ec))
    root = dir + "/" + subfolder;
  if (with_train)
    for (const std::string& f : train_files)
      ROTOR_CHECK(fs::is_regular_file(root + "/" + f, ec), "{}: missing {} (looked in {}{})", what, f, root,
                  root == dir ? " and " + dir + "/" + subfolder : "");
  ROTOR_CHECK(fs::is_regular_file(root + "/" + test_file, ec), "{}: missing {} (looked in {}{})", what, test_file,
              root, root == dir && !with_train ? " and " + dir + "/" + subfolder : "");

  DataSplit s;
  s.name = name;
  s.source = root;
  s.classes = cifar_classes(labels);
  s.class_names = class_names(root, labels);
  s.natural_images = true;
  for (const std::string& f : with_train ? train_files : std::vector<std::string>{}) {
    Dataset part = read_cifar_file(root + "/" + f, labels);
    if (s.train.labels.empty())
      s.train = std::move(part);
    else
      append(s.train, std::move(part));
  }
  s.test = read_cifar_file(root + "/" + test_file, labels);
  validate(s, what, parts);
  return s;
}

}  // namespace rotor
