#include "engine/tensor_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "engine/context.h"
#include "engine/sync_dir.h"
#include "engine/tensor_util.h"

namespace rotor {
namespace {

constexpr char magic[8] = {'R', 'O', 'T', 'O', 'R', 'T', 'F', '\0'};

class Writer {
 public:
  void bytes(const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    buf_.insert(buf_.end(), c, c + n);
  }
  template <class T> void value(T v) { bytes(&v, sizeof v); }
  std::vector<char>& buffer() { return buf_; }

 private:
  std::vector<char> buf_;
};

// Reads the bytes [0, end) of a file's contents (end excludes the checksum).
class Reader {
 public:
  Reader(const std::string& path, const std::vector<char>& data, size_t end) : path_(path), data_(data), end_(end) {}
  void bytes(void* out, size_t n, const char* what) {
    ROTOR_CHECK(n <= end_ - pos_, "{}: truncated file: {} needs {} bytes at offset {}, only {} left", path_, what, n,
                pos_, end_ - pos_);
    std::memcpy(out, data_.data() + pos_, n);
    pos_ += n;
  }
  template <class T> T value(const char* what) {
    T v;
    bytes(&v, sizeof v, what);
    return v;
  }
  size_t pos() const { return pos_; }
  size_t left() const { return end_ - pos_; }

 private:
  const std::string& path_;
  const std::vector<char>& data_;
  size_t end_;
  size_t pos_ = 0;
};

uint32_t crc_of(const char* data, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

void write_all_atomically(const std::string& path, const std::vector<char>& data) {
  std::error_code ec;
  ROTOR_CHECK(!std::filesystem::is_directory(path, ec), "cannot write {}: it is a directory", path);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ROTOR_CHECK(fd >= 0, "cannot write {}: {}", tmp, std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail("cannot write {}: {}", tmp, std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot flush {}: {}", tmp, std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot rename {} to {}: {}", tmp, path, std::strerror(err));
  }
  sync_parent_directory(path);
}

}  // namespace

const Tensor* TensorFile::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

void write_tensor_file(Context& ctx, const std::string& path, const Json& header,
                       const std::vector<std::pair<std::string, const Tensor*>>& tensors) {
  Writer w;
  w.bytes(magic, sizeof magic);
  w.value<uint32_t>(tensor_file_version);
  const std::string text = header.dump();
  w.value<uint64_t>(text.size());
  w.bytes(text.data(), text.size());
  w.value<uint64_t>(tensors.size());
  for (const auto& [name, t] : tensors) {
    const Tensor host = to_host(ctx, *t);
    w.value<uint32_t>(static_cast<uint32_t>(name.size()));
    w.bytes(name.data(), name.size());
    w.value<uint8_t>(static_cast<uint8_t>(host.dtype()));
    w.value<uint8_t>(static_cast<uint8_t>(host.rank()));
    for (int64_t d : host.shape()) w.value<int64_t>(d);
    w.value<uint64_t>(host.bytes());
    w.bytes(host.raw(), host.bytes());
  }
  const uint32_t crc = crc_of(w.buffer().data(), w.buffer().size());
  w.value<uint32_t>(crc);
  write_all_atomically(path, w.buffer());
}

TensorFile read_tensor_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses
  // anything but a regular file before a byte is read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ROTOR_CHECK(fd >= 0, "cannot open {}: {}", path, std::strerror(errno));
  std::unique_ptr<int, void (*)(int*)> guard(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  struct stat st;
  ROTOR_CHECK(::fstat(fd, &st) == 0, "cannot read {}: {}", path, std::strerror(errno));
  ROTOR_CHECK(!S_ISDIR(st.st_mode), "{} is a directory, not a rotor model or checkpoint file", path);
  ROTOR_CHECK(S_ISREG(st.st_mode),
              "{} is not a regular file (a pipe, socket or device), so not a rotor model or checkpoint file", path);
  // The magic first, then exactly the size fstat gave: a foreign file costs
  // 8 bytes of reading, never its whole length.
  const size_t size = static_cast<size_t>(st.st_size);
  std::vector<char> data(std::min(size, sizeof magic));
  auto read_into = [&](size_t from) {
    size_t done = from;
    while (done < data.size()) {
      const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      ROTOR_CHECK(n >= 0, "cannot read {}: {}", path, std::strerror(errno));
      ROTOR_CHECK(n > 0, "{}: the file shrank while being read ({} of {} bytes)", path, done, data.size());
      done += static_cast<size_t>(n);
    }
  };
  read_into(0);
  ROTOR_CHECK(data.size() == sizeof magic && std::memcmp(data.data(), magic, sizeof magic) == 0,
              "{} is not a rotor model or checkpoint file (bad magic bytes)", path);
  data.resize(size);
  read_into(sizeof magic);
  return parse_tensor_file(data, path);
}

TensorFile parse_tensor_file(const std::vector<char>& data, const std::string& path) {
  ROTOR_CHECK(data.size() >= sizeof magic + 4 && std::memcmp(data.data(), magic, sizeof magic) == 0,
              "{} is not a rotor model or checkpoint file (bad magic bytes)", path);
  ROTOR_CHECK(data.size() >= sizeof magic + 4 + 8 + 8 + 4, "{}: truncated file ({} bytes)", path, data.size());
  uint32_t stored_crc;
  std::memcpy(&stored_crc, data.data() + data.size() - 4, 4);
  Reader r(path, data, data.size() - 4);
  char m[8];
  r.bytes(m, 8, "magic");
  const uint32_t version = r.value<uint32_t>("version");
  ROTOR_CHECK(version == tensor_file_version, "{}: file format version {} is not supported (this rotor reads {})",
              path, version, tensor_file_version);
  ROTOR_CHECK(crc_of(data.data(), data.size() - 4) == stored_crc,
              "{}: checksum mismatch: the file is corrupt or truncated", path);
  TensorFile file;
  const uint64_t header_len = r.value<uint64_t>("header length");
  ROTOR_CHECK(header_len <= r.left(), "{}: header length {} exceeds the file", path, header_len);
  std::string text(header_len, '\0');
  r.bytes(text.data(), header_len, "header");
  try {
    file.header = Json::parse(text);
  } catch (const Error& e) {
    fail("{}: bad header: {}", path, e.what());
  }
  const uint64_t count = r.value<uint64_t>("tensor count");
  for (uint64_t i = 0; i < count; ++i) {
    const uint32_t name_len = r.value<uint32_t>("name length");
    ROTOR_CHECK(name_len <= r.left(), "{}: tensor {} name length {} exceeds the file", path, i, name_len);
    std::string name(name_len, '\0');
    r.bytes(name.data(), name_len, "tensor name");
    const uint8_t dtype = r.value<uint8_t>("dtype");
    ROTOR_CHECK(dtype <= static_cast<uint8_t>(DType::i64), "{}: tensor {} has unknown dtype {}", path, name, dtype);
    const uint8_t rank = r.value<uint8_t>("rank");
    ROTOR_CHECK(rank <= 8, "{}: tensor {} has rank {}", path, name, rank);
    Shape shape(rank);
    for (auto& d : shape) {
      d = r.value<int64_t>("dimension");
      ROTOR_CHECK(d >= 0 && d < (int64_t(1) << 40), "{}: tensor {} has a bad dimension {}", path, name, d);
    }
    const uint64_t bytes = r.value<uint64_t>("byte count");
    // The shape's size, without overflow, must match the byte count and fit
    // in what is left of the file before the tensor is allocated.
    uint64_t expected = dtype_size(static_cast<DType>(dtype));
    bool overflow = false;
    for (int64_t d : shape) overflow = overflow || __builtin_mul_overflow(expected, static_cast<uint64_t>(d), &expected);
    ROTOR_CHECK(!overflow && bytes == expected, "{}: tensor {} of shape {} holds {} bytes, expected {}", path, name,
                shape_str(shape), bytes, overflow ? std::string("more than 2^64") : std::to_string(expected));
    ROTOR_CHECK(bytes <= r.left(), "{}: tensor {} of shape {} claims {} bytes but only {} are left in the file", path,
                name, shape_str(shape), bytes, r.left());
    Tensor t = Tensor::host(shape, static_cast<DType>(dtype));
    r.bytes(t.raw(), bytes, "tensor data");
    file.tensors.emplace_back(std::move(name), std::move(t));
  }
  ROTOR_CHECK(r.left() == 0, "{}: {} unexpected bytes after the last tensor", path, r.left());
  return file;
}

}  // namespace rotor
