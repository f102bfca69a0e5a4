#include "data/image_folder.h"

#include <fmt/ranges.h>
#include <stb_image.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>

#include "engine/error.h"
#include "engine/thread_pool.h"

namespace fs = std::filesystem;

namespace rotor {
namespace {

// Sorted names of the non-hidden entries of `dir` that are directories
// (want_dirs) or regular files.
std::vector<std::string> sorted_entries(const std::string& dir, bool want_dirs, const std::string& what) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  ROTOR_CHECK(!ec, "{}: cannot list {}: {}", what, dir, ec.message());
  std::vector<std::string> names;
  for (const fs::directory_entry& e : it) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (want_dirs ? e.is_directory(ec) : e.is_regular_file(ec)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct ImageFile {
  std::string path;
  int32_t label = 0;
  bool train = true;
};

// Runs task(i) for every file index in [0, n) on the pool. The tasks record
// errors instead of throwing, so that every file is looked at and the first
// bad one in file order is reported.
void for_each_file(ThreadPool& pool, size_t n, const std::function<void(size_t)>& task) {
  pool.parallel_for(static_cast<int64_t>(n), [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) task(static_cast<size_t>(i));
  });
}

struct Header {
  int width = 0, height = 0, channels = 0;
  bool ok = false;
  std::string reason;  // stb_image's, when !ok
};

}  // namespace

DataSplit load_image_folder(const std::string& dir, int threads) {
  const std::string what = "folder:" + dir;
  std::error_code ec;
  ROTOR_CHECK(fs::is_directory(dir, ec), "{}: {} is not a directory", what, dir);
  for (const char* part : {"train", "test"})
    ROTOR_CHECK(fs::is_directory(dir + "/" + part, ec),
                "{}: missing {}/{} (an image folder holds train/<class>/ and test/<class>/)", what, dir, part);

  const std::vector<std::string> classes = sorted_entries(dir + "/train", true, what);
  const std::vector<std::string> test_classes = sorted_entries(dir + "/test", true, what);
  ROTOR_CHECK(classes.size() >= 2, "{}: {}/train has {} class folder{}, expected at least 2", what, dir,
              classes.size(), classes.size() == 1 ? "" : "s");
  if (classes != test_classes) {
    std::vector<std::string> only_train, only_test;
    std::set_difference(classes.begin(), classes.end(), test_classes.begin(), test_classes.end(),
                        std::back_inserter(only_train));
    std::set_difference(test_classes.begin(), test_classes.end(), classes.begin(), classes.end(),
                        std::back_inserter(only_test));
    fail("{}: train and test have different class folders: {} only in train, {} only in test", what,
         only_train.empty() ? "none" : "'" + fmt::format("{}", fmt::join(only_train, "', '")) + "'",
         only_test.empty() ? "none" : "'" + fmt::format("{}", fmt::join(only_test, "', '")) + "'");
  }

  // Train files first, then test; within each, by class then by file name.
  std::vector<ImageFile> files;
  for (const bool train : {true, false})
    for (size_t c = 0; c < classes.size(); ++c) {
      const std::string folder = dir + (train ? "/train/" : "/test/") + classes[c];
      const std::vector<std::string> names = sorted_entries(folder, false, what);
      ROTOR_CHECK(!names.empty(), "{}: class folder {} holds no image files", what, folder);
      for (const std::string& name : names)
        files.push_back({folder + "/" + name, static_cast<int32_t>(c), train});
    }

  // The loader runs before there is a Context (the data decide the model's
  // shape), so it has a pool of its own for the two passes.
  ThreadPool pool(threads);

  // Pass 1: headers only.
  std::vector<Header> headers(files.size());
  for_each_file(pool, files.size(), [&](size_t i) {
    Header& h = headers[i];
    h.ok = stbi_info(files[i].path.c_str(), &h.width, &h.height, &h.channels) == 1;
    if (!h.ok) h.reason = stbi_failure_reason() ? stbi_failure_reason() : "unknown error";
  });
  for (size_t i = 0; i < files.size(); ++i) {
    const Header& h = headers[i];
    ROTOR_CHECK(h.ok, "{}: unreadable image {}: {}", what, files[i].path, h.reason);
    ROTOR_CHECK(h.width == headers[0].width && h.height == headers[0].height,
                "{}: image {} is {}x{} but {} is {}x{}; all images must have one size", what, files[i].path, h.width,
                h.height, files[0].path, headers[0].width, headers[0].height);
  }
  const bool colour = std::any_of(headers.begin(), headers.end(), [](const Header& h) { return h.channels >= 3; });
  const double gib = static_cast<double>(files.size()) * headers[0].width * headers[0].height * (colour ? 3 : 1) /
                     (1u << 30);
  ROTOR_CHECK(gib <= 64, "{}: {} images of {}x{} pixels would take {:.0f} GiB as uint8; resize them first", what,
              files.size(), headers[0].width, headers[0].height, gib);

  DataSplit s;
  s.name = "folder";
  s.source = dir;
  s.classes = static_cast<int64_t>(classes.size());
  s.class_names = classes;
  s.natural_images = true;
  const size_t n_train = static_cast<size_t>(
      std::count_if(files.begin(), files.end(), [](const ImageFile& f) { return f.train; }));
  for (Dataset* d : {&s.train, &s.test}) {
    d->channels = colour ? 3 : 1;
    d->height = headers[0].height;
    d->width = headers[0].width;
    const size_t n = d == &s.train ? n_train : files.size() - n_train;
    d->images.resize(n * d->image_bytes());
    d->labels.resize(n);
  }

  // Pass 2: decode with one channel count, interleaved (H, W, C) -> (C, H, W).
  std::vector<std::string> errors(files.size());
  for_each_file(pool, files.size(), [&](size_t i) {
    Dataset& d = files[i].train ? s.train : s.test;
    const size_t k = files[i].train ? i : i - n_train;
    const int c = static_cast<int>(d.channels);
    int w = 0, h = 0, file_channels = 0;
    std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load(files[i].path.c_str(), &w, &h, &file_channels, c),
                                                     stbi_image_free);
    if (!pixels) {
      errors[i] = fmt::format("{}: cannot decode image {}: {}", what, files[i].path,
                              stbi_failure_reason() ? stbi_failure_reason() : "unknown error");
      return;
    }
    if (w != d.width || h != d.height) {
      errors[i] = fmt::format("{}: image {} decodes to {}x{} but its header said {}x{}", what, files[i].path, w, h,
                              d.width, d.height);
      return;
    }
    const size_t plane = static_cast<size_t>(w) * h;
    uint8_t* out = d.images.data() + k * d.image_bytes();
    for (int ch = 0; ch < c; ++ch)
      for (size_t p = 0; p < plane; ++p) out[ch * plane + p] = pixels.get()[p * c + ch];
    d.labels[k] = files[i].label;
  });
  for (const std::string& e : errors)
    if (!e.empty()) throw Error(e);
  validate(s, what);
  return s;
}

}  // namespace rotor
