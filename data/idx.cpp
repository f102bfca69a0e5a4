#include "data/idx.h"

#include <sys/stat.h>
#include <zlib.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "engine/error.h"

namespace rotor {
namespace {

// Reads exactly n bytes or returns false at a clean end of file; throws on a
// read or decompression error.
bool read_exact(gzFile f, const std::string& path, void* out, size_t n, const char* what) {
  size_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
    const int got = gzread(f, static_cast<char*>(out) + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      fail("{}: corrupt file while reading {}: {}", path, what, msg ? msg : "read error");
    }
    if (got == 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      if (code != Z_OK && code != Z_STREAM_END)
        fail("{}: corrupt or truncated file while reading {}: {}", path, what, msg ? msg : "read error");
      return false;
    }
    done += static_cast<size_t>(got);
  }
  return true;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// "8388608 images of 28x28", "60000 labels" or "an array of 2x3x4x5".
std::string claim_text(const std::vector<int64_t>& dims) {
  if (dims.size() == 1) return fmt::format("{} labels", dims[0]);
  if (dims.size() == 3) return fmt::format("{} images of {}x{}", dims[0], dims[1], dims[2]);
  return fmt::format("an array of {}", fmt::join(dims, "x"));
}

std::string size_text(uint64_t bytes) {
  if (bytes >= 1000000000) return fmt::format("{:.1f} GB", bytes / 1e9);
  if (bytes >= 1000000) return fmt::format("{:.1f} MB", bytes / 1e6);
  if (bytes >= 1000) return fmt::format("{:.1f} kB", bytes / 1e3);
  return fmt::format("{} bytes", bytes);
}

// deflate cannot expand its input by more than this (zlib's technical notes),
// so a gzip file of n bytes holds at most n * 1032 bytes of data.
constexpr uint64_t max_deflate_ratio = 1032;
// Data arrive in pieces of at most this size, so memory grows with the bytes
// a file really holds, never with what its header claims.
constexpr size_t read_piece = size_t(1) << 24;

}  // namespace

IdxArray read_idx(const std::string& path) {
  // stat before opening: a FIFO would block the open, a directory or device
  // is not a data file.
  struct stat st;
  ROTOR_CHECK(::stat(path.c_str(), &st) == 0, "cannot open {}: {}", path, std::strerror(errno));
  ROTOR_CHECK(S_ISREG(st.st_mode), "{} is not a regular file (a directory, device or pipe)", path);
  const uint64_t file_bytes = static_cast<uint64_t>(st.st_size);
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  ROTOR_CHECK(f != nullptr, "cannot open {}: {}", path, std::strerror(errno));
  uint8_t head[4];
  ROTOR_CHECK(read_exact(f.get(), path, head, 4, "the magic number"), "{}: truncated file: no IDX header", path);
  ROTOR_CHECK(head[0] == 0 && head[1] == 0, "{}: not an IDX file (magic bytes {:02x} {:02x}, expected 00 00)", path,
              head[0], head[1]);
  ROTOR_CHECK(head[2] == 0x08, "{}: IDX element type 0x{:02x} is not supported (expected 0x08, unsigned byte)",
              path, head[2]);
  ROTOR_CHECK(head[3] >= 1 && head[3] <= 4, "{}: IDX file with {} dimensions", path, head[3]);
  IdxArray a;
  uint64_t total = 1;
  for (int d = 0; d < head[3]; ++d) {
    uint8_t b[4];
    ROTOR_CHECK(read_exact(f.get(), path, b, 4, "the dimensions"), "{}: truncated file: header ends in dimension {}",
                path, d);
    const uint32_t dim = (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
    ROTOR_CHECK(dim > 0 && dim < (1u << 28), "{}: dimension {} has size {}", path, d, dim);
    a.dims.push_back(dim);
    total *= dim;
    ROTOR_CHECK(total < (uint64_t(1) << 34), "{}: data of more than 16 GiB", path);
  }
  // What the header claims must fit in the file before any of it is
  // allocated: exactly for a raw file, within deflate's best ratio for gzip.
  const uint64_t header_bytes = 4 + 4 * uint64_t(head[3]);
  const bool raw = gzdirect(f.get()) == 1;
  const uint64_t room = raw ? file_bytes - std::min(file_bytes, header_bytes) : file_bytes * max_deflate_ratio;
  ROTOR_CHECK(total <= room, "{}: header claims {} ({}) but the file holds {} bytes{}; it is truncated or its header "
              "is corrupt", path, claim_text(a.dims), size_text(total), raw ? room : file_bytes,
              raw ? fmt::format(" after its {}-byte header", header_bytes)
                  : fmt::format(" of gzip data (at most {} uncompressed)", size_text(room)));
  while (a.data.size() < total) {
    const size_t done = a.data.size();
    const size_t piece = static_cast<size_t>(std::min<uint64_t>(total - done, read_piece));
    a.data.resize(done + piece);
    ROTOR_CHECK(read_exact(f.get(), path, a.data.data() + done, piece, "the data"),
                "{}: truncated file: header claims {} ({} data bytes) but the data end before byte {}", path,
                claim_text(a.dims), total, done + piece);
  }
  uint8_t extra;
  ROTOR_CHECK(!read_exact(f.get(), path, &extra, 1, "the end of the file"),
              "{}: unexpected bytes after the {} data bytes the header announces", path, total);
  return a;
}

Dataset read_idx_pair(const std::string& images_path, const std::string& labels_path, int64_t classes) {
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  ROTOR_CHECK(images.dims.size() == 3, "{}: an images file has 3 dimensions (N, H, W), this one has {}",
              images_path, images.dims.size());
  ROTOR_CHECK(labels.dims.size() == 1, "{}: a labels file has 1 dimension (N), this one has {}", labels_path,
              labels.dims.size());
  ROTOR_CHECK(images.dims[0] == labels.dims[0], "{} holds {} images but {} holds {} labels", images_path,
              images.dims[0], labels_path, labels.dims[0]);
  Dataset d;
  d.channels = 1;
  d.height = images.dims[1];
  d.width = images.dims[2];
  d.images = std::move(images.data);
  d.labels.reserve(labels.data.size());
  for (size_t i = 0; i < labels.data.size(); ++i) {
    ROTOR_CHECK(labels.data[i] < classes, "{}: label {} of item {} is not below {}", labels_path, labels.data[i], i,
                classes);
    d.labels.push_back(labels.data[i]);
  }
  return d;
}

static std::string find_idx(const std::string& dir, const std::string& base, const std::string& what) {
  const std::string raw = dir + "/" + base;
  if (file_exists(raw)) return raw;
  if (file_exists(raw + ".gz")) return raw + ".gz";
  fail("{}: no {} in {} (looked for {} and {}.gz)", what, base, dir, base, base);
}

DataSplit load_mnist_dir(const std::string& dir, const std::string& name, DataParts parts) {
  DataSplit s;
  s.name = name;
  s.source = dir;
  s.classes = 10;
  const std::string what = name + ":" + dir;
  // Located one by one, in this order, so the error names the first missing file.
  if (parts == DataParts::train_and_test) {
    const std::string train_images = find_idx(dir, "train-images-idx3-ubyte", what);
    const std::string train_labels = find_idx(dir, "train-labels-idx1-ubyte", what);
    s.train = read_idx_pair(train_images, train_labels, s.classes);
  }
  const std::string test_images = find_idx(dir, "t10k-images-idx3-ubyte", what);
  const std::string test_labels = find_idx(dir, "t10k-labels-idx1-ubyte", what);
  s.test = read_idx_pair(test_images, test_labels, s.classes);
  if (name == "fashion-mnist")
    s.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  else
    for (int i = 0; i < 10; ++i) s.class_names.push_back(std::to_string(i));
  validate(s, what, parts);
  return s;
}

}  // namespace rotor
