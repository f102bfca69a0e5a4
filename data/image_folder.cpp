#include "data/image_folder.h"

#include <fmt/ranges.h>
#include <stb_image.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
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
  uint64_t file_bytes = 0;
  bool png = false;
};

// A header is a claim: one side of at most 16384 pixels and 2^26 pixels in
// all (a 8192x8192 image) is as large as a training image gets.
constexpr int max_side = 16384;
constexpr uint64_t max_pixels = uint64_t(1) << 26;
// deflate expands its input at most 1032 times, so a PNG of n bytes holds at
// most n * 1032 bytes of filtered rows; each row holds at least one filter
// byte and one bit per pixel.
constexpr uint64_t max_deflate_ratio = 1032;

Header read_header(const std::string& path) {
  Header h;
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) {
    h.reason = std::strerror(errno);
    return h;
  }
  unsigned char sig[8] = {};
  h.png = std::fread(sig, 1, 8, f.get()) == 8 && std::memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0;
  std::fseek(f.get(), 0, SEEK_END);
  h.file_bytes = static_cast<uint64_t>(std::max<long>(0, std::ftell(f.get())));
  std::fseek(f.get(), 0, SEEK_SET);
  h.ok = stbi_info_from_file(f.get(), &h.width, &h.height, &h.channels) == 1;
  if (!h.ok) h.reason = stbi_failure_reason() ? stbi_failure_reason() : "unknown error";
  return h;
}

// Checks one header's claimed size against sane limits and against the
// bytes of its file, before any pixel memory is allocated.
std::string header_problem(const Header& h) {
  if (h.width < 1 || h.height < 1 || h.width > max_side || h.height > max_side ||
      uint64_t(h.width) * uint64_t(h.height) > max_pixels)
    return fmt::format("its header claims {}x{} pixels (at most {}x{} and {} pixels in all are accepted)", h.width,
                       h.height, max_side, max_side, max_pixels);
  if (h.png) {
    const uint64_t min_stream = uint64_t(h.height) * (1 + (uint64_t(h.width) + 7) / 8);
    if (min_stream > h.file_bytes * max_deflate_ratio)
      return fmt::format("its header claims {}x{} pixels but the file holds {} bytes, too few for that many "
                         "pixels even compressed",
                         h.width, h.height, h.file_bytes);
  }
  return "";
}

// Half of the machine's memory: the decoded images must leave room for the
// model and its activations.
uint64_t pixel_budget_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  const uint64_t half = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) / 2 : uint64_t(8) << 30;
  return std::min<uint64_t>(half, uint64_t(64) << 30);
}

}  // namespace

DataSplit load_image_folder(const std::string& dir, int threads, DataParts parts) {
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
  // For test_only the class folders of train/ still name the classes, but
  // no training image is read.
  std::vector<ImageFile> files;
  const bool with_train = parts == DataParts::train_and_test;
  for (const bool train : {true, false}) {
    if (train && !with_train) continue;
    for (size_t c = 0; c < classes.size(); ++c) {
      const std::string folder = dir + (train ? "/train/" : "/test/") + classes[c];
      const std::vector<std::string> names = sorted_entries(folder, false, what);
      ROTOR_CHECK(!names.empty(), "{}: class folder {} holds no image files", what, folder);
      for (const std::string& name : names)
        files.push_back({folder + "/" + name, static_cast<int32_t>(c), train});
    }
  }

  // The loader runs before there is a Context (the data decide the model's
  // shape), so it has a pool of its own for the two passes.
  ThreadPool pool(threads);

  // Pass 1: headers only.
  std::vector<Header> headers(files.size());
  for_each_file(pool, files.size(), [&](size_t i) { headers[i] = read_header(files[i].path); });
  for (size_t i = 0; i < files.size(); ++i) {
    const Header& h = headers[i];
    ROTOR_CHECK(h.ok, "{}: unreadable image {}: {}", what, files[i].path, h.reason);
    const std::string problem = header_problem(h);
    ROTOR_CHECK(problem.empty(), "{}: image {}: {}", what, files[i].path, problem);
    ROTOR_CHECK(h.width == headers[0].width && h.height == headers[0].height,
                "{}: image {} is {}x{} but {} is {}x{}; all images must have one size", what, files[i].path, h.width,
                h.height, files[0].path, headers[0].width, headers[0].height);
  }
  const bool colour = std::any_of(headers.begin(), headers.end(), [](const Header& h) { return h.channels >= 3; });
  const uint64_t total =
      uint64_t(files.size()) * uint64_t(headers[0].width) * uint64_t(headers[0].height) * (colour ? 3 : 1);
  const uint64_t budget = pixel_budget_bytes();
  ROTOR_CHECK(total <= budget,
              "{}: {} images of {}x{} pixels would take {:.1f} GiB as uint8, more than the {:.1f} GiB allowed (half "
              "of this machine's memory, at most 64 GiB); resize them first",
              what, files.size(), headers[0].width, headers[0].height, total / double(1u << 30),
              budget / double(1u << 30));

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
  validate(s, what, parts);
  return s;
}

}  // namespace rotor
