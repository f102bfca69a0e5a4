#include "data/image_folder.h"

#include <fmt/ranges.h>
#include <stb_image.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
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
  bool png = false, jpeg = false, bmp = false;
};

// A header is a claim: one side of at most 16384 pixels and 2^26 pixels in
// all (a 8192x8192 image) is as large as a training image gets.
constexpr int max_side = 16384;
constexpr uint64_t max_pixels = uint64_t(1) << 26;
// deflate expands its input at most 1032 times, so a PNG of n bytes holds at
// most n * 1032 bytes of filtered rows; each row holds at least one filter
// byte and one bit per pixel.
constexpr uint64_t max_deflate_ratio = 1032;
constexpr uint64_t max_jpeg_pixels_per_byte = 4096;
// A BMP holds at most 8 pixels a byte uncompressed (1 bit each) and at most
// 255 pixels per 2-byte run in RLE4/RLE8: 128 pixels a byte bounds them all.
constexpr uint64_t max_bmp_pixels_per_byte = 128;

// The whole file, or an empty vector and the reason.
std::vector<uint8_t> read_file(const std::string& path, std::string& reason) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  std::vector<uint8_t> bytes;
  if (!f) {
    reason = std::strerror(errno);
    return bytes;
  }
  uint8_t buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f.get())) > 0;) bytes.insert(bytes.end(), buf, buf + n);
  if (std::ferror(f.get())) reason = std::strerror(errno);
  return bytes;
}

// stb_image 2.27 (Debian 12's libstb-dev) writes past a Huffman table when a
// JPEG's DHT segment declares more than 256 codes in one table (stb 2.28
// checks it; found by tests/fuzz/fuzz_image). Such a file is corrupt, so it
// is refused before stb reads it. Walks the segments the way stb does and
// returns what is wrong, or "" (also for files that are not JPEG).
std::string jpeg_problem(const std::vector<uint8_t>& p) {
  const size_t n = p.size();
  // stb skips fill bytes before a marker code, the start-of-image one too.
  size_t i = 0;
  if (n < 2 || p[0] != 0xFF) return "";
  while (i < n && p[i] == 0xFF) ++i;
  if (i == n || p[i] != 0xD8) return "";
  ++i;
  bool defined[2][4] = {};  // [DC, AC][table id]: set by a DHT segment before use
  while (i + 1 < n) {
    if (p[i] != 0xFF) {  // entropy-coded data between markers
      ++i;
      continue;
    }
    const uint8_t m = p[i + 1];
    if (m == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {  // stuffed byte, TEM, RSTn, SOI: no length
      i += 2;
      continue;
    }
    if (m == 0xD9 || i + 3 >= n) break;  // EOI, or no room for a length
    const size_t length = (size_t(p[i + 2]) << 8) | p[i + 3];
    if (m == 0xC4) {
      // As stb reads it: a class/id byte, 16 counts, their values; repeated
      // while the segment has bytes left (stb builds each table before it
      // checks the segment's length, and reads zeros past the end).
      long left = static_cast<long>(length) - 2;
      for (size_t k = i + 4; left > 0 && k < n;) {
        size_t codes = 0;
        for (size_t c = k + 1; c <= k + 16 && c < n; ++c) codes += p[c];
        if (codes > 256)
          return fmt::format("corrupt JPEG: a Huffman table (DHT segment at byte {}) declares {} codes, at most 256 "
                             "are possible",
                             i, codes);
        if ((p[k] >> 4) <= 1 && (p[k] & 15) <= 3) defined[p[k] >> 4][p[k] & 15] = true;
        left -= static_cast<long>(17 + codes);
        k += 17 + codes;
      }
    }
    if (m == 0xDA && i + 4 < n) {
      // A scan decodes with the tables its components name; stb 2.27 reads
      // a table no DHT defined as uninitialised memory (found by
      // tests/fuzz/fuzz_image: a failed assertion in stbi__jpeg_huff_decode,
      // out-of-bounds reads without assertions).
      const size_t components = p[i + 4];
      const size_t spectral = i + 5 + 2 * components;  // Ss, Se
      const bool dc = spectral < n && p[spectral] == 0;
      const bool ac = spectral + 1 < n && p[spectral + 1] > 0;
      for (size_t c = 0; c < components && i + 6 + 2 * c < n; ++c) {
        const uint8_t tables = p[i + 6 + 2 * c];
        for (int kind = 0; kind < 2; ++kind) {
          const int id = kind == 0 ? tables >> 4 : tables & 15;
          if ((kind == 0 ? dc : ac) && id <= 3 && !defined[kind][id])
            return fmt::format("corrupt JPEG: the scan at byte {} uses the {} Huffman table {}, which no DHT segment "
                               "defined",
                               i, kind == 0 ? "DC" : "AC", id);
        }
      }
    }
    i += 2 + length;
  }
  return "";
}

// stb_image 2.27 grows its buffer to a PNG IDAT chunk's claimed length
// before reading it (a 211-byte file asked for 1.9 GB; found by
// tests/fuzz/fuzz_image), so every chunk must fit in the file first.
std::string png_problem(const std::vector<uint8_t>& p) {
  if (p.size() < 8 || std::memcmp(p.data(), "\x89PNG\r\n\x1a\n", 8) != 0) return "";
  for (size_t i = 8; i + 8 <= p.size();) {
    const uint64_t length = (uint64_t(p[i]) << 24) | (uint64_t(p[i + 1]) << 16) | (uint64_t(p[i + 2]) << 8) | p[i + 3];
    const uint64_t left = p.size() - i - 8;  // after the length and type fields
    if (length + 4 > left)
      return fmt::format("corrupt PNG: the chunk at byte {} claims {} bytes but only {} follow", i, length,
                         left >= 4 ? left - 4 : 0);
    if (std::memcmp(p.data() + i + 4, "IEND", 4) == 0) break;
    i += 12 + static_cast<size_t>(length);
  }
  return "";
}

// What stb_image must not be given (see above), or "".
std::string format_problem(const std::vector<uint8_t>& bytes) {
  std::string problem = jpeg_problem(bytes);
  return problem.empty() ? png_problem(bytes) : problem;
}

Header read_header(const std::string& path) {
  Header h;
  const std::vector<uint8_t> bytes = read_file(path, h.reason);
  if (!h.reason.empty()) return h;
  h.file_bytes = bytes.size();
  h.png = bytes.size() >= 8 && std::memcmp(bytes.data(), "\x89PNG\r\n\x1a\n", 8) == 0;
  h.jpeg = bytes.size() >= 2 && bytes[0] == 0xFF && !h.png;
  h.bmp = bytes.size() >= 2 && bytes[0] == 'B' && bytes[1] == 'M';
  h.reason = format_problem(bytes);
  if (!h.reason.empty()) return h;
  h.ok = stbi_info_from_memory(bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), INT32_MAX)), &h.width,
                               &h.height, &h.channels) == 1;
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
  // stb decodes a JPEG whose data run out as if zeros followed, so a few
  // hundred bytes can claim 8192x8192 pixels and cost seconds and hundreds
  // of MB each (found by tests/fuzz/fuzz_image, as a timeout). Real JPEGs
  // hold far more than a byte per 4096 pixels.
  if (h.jpeg && uint64_t(h.width) * uint64_t(h.height) > h.file_bytes * max_jpeg_pixels_per_byte)
    return fmt::format("its header claims {}x{} pixels but the file holds {} bytes, too few for a JPEG of that size",
                       h.width, h.height, h.file_bytes);
  // The same for a BMP (found by tests/fuzz/fuzz_image, as a timeout: 156
  // bytes claiming 256x11264 pixels, decoded from zeros past the end).
  if (h.bmp && uint64_t(h.width) * uint64_t(h.height) > h.file_bytes * max_bmp_pixels_per_byte)
    return fmt::format("its header claims {}x{} pixels but the file holds {} bytes, too few for a BMP of that size",
                       h.width, h.height, h.file_bytes);
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
    // Read again and checked again: the file may have changed since pass 1.
    std::string reason;
    const std::vector<uint8_t> bytes = read_file(files[i].path, reason);
    if (reason.empty()) reason = format_problem(bytes);
    if (!reason.empty()) {
      errors[i] = fmt::format("{}: cannot decode image {}: {}", what, files[i].path, reason);
      return;
    }
    std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
        stbi_load_from_memory(bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), INT32_MAX)), &w, &h,
                              &file_channels, c),
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
