#include "data/matfile.h"

#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "engine/error.h"

namespace fs = std::filesystem;

namespace rotor {

static_assert(std::endian::native == std::endian::little, "the MAT reader copies little-endian values as they are");

namespace {

constexpr size_t header_bytes = 128;
constexpr uint64_t max_deflate_ratio = 1032;  // deflate cannot expand a stream's input more than this
constexpr size_t inflate_piece = size_t(1) << 24;  // an inflated element grows by at most this much at a time

uint32_t le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

size_t type_bytes(uint32_t type) {
  switch (type) {
    case mat_int8:
    case mat_uint8: return 1;
    case mat_int16:
    case mat_uint16: return 2;
    case mat_int32:
    case mat_uint32:
    case mat_single: return 4;
    case mat_double:
    case mat_int64:
    case mat_uint64: return 8;
    default: return 0;
  }
}

struct Span {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

// One data element inside a span: its type, its payload and the offset of
// the element after it (payloads are padded to 8 bytes).
struct Element {
  uint32_t type = 0;
  Span payload;
  size_t next = 0;
};

Element read_element(Span s, size_t pos, const std::string& where, const char* what) {
  ROTOR_CHECK(pos <= s.size && s.size - pos >= 8,
              "{}: truncated array: {} needs an 8-byte element tag but {} bytes are left", where, what,
              pos <= s.size ? s.size - pos : 0);
  const uint32_t first = le32(s.data + pos);
  Element e;
  if (first >> 16 != 0) {  // small element: count in the high half, data in the tag's second word
    e.type = first & 0xffff;
    const uint32_t n = first >> 16;
    ROTOR_CHECK(n <= 4, "{}: {} is a small data element of {} bytes (at most 4 fit)", where, what, n);
    e.payload = {s.data + pos + 4, n};
    e.next = pos + 8;
    return e;
  }
  e.type = first;
  const uint64_t n = le32(s.data + pos + 4);
  const uint64_t left = s.size - pos - 8;
  ROTOR_CHECK(n <= left, "{}: truncated array: {} announces {} bytes but only {} follow", where, what, n, left);
  e.payload = {s.data + pos + 8, static_cast<size_t>(n)};
  // A last element without its padding is harmless: nothing follows it.
  e.next = pos + 8 + static_cast<size_t>(std::min<uint64_t>((n + 7) / 8 * 8, left));
  return e;
}

// Inflates into out[0, n) and returns how many bytes came out; `ended` tells
// whether the zlib stream reached its end.
size_t inflate_into(z_stream& zs, uint8_t* out, size_t n, bool& ended, const std::string& where) {
  zs.next_out = out;
  zs.avail_out = static_cast<uInt>(n);
  while (zs.avail_out > 0 && !ended) {
    const int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END)
      ended = true;
    else if (rc == Z_BUF_ERROR)
      break;  // no input left: the stream is cut short
    else if (rc != Z_OK)
      fail("{}: corrupt compressed element: zlib says {} ({})", where, zs.msg ? zs.msg : "error", rc);
  }
  return n - zs.avail_out;
}

// A miCOMPRESSED payload inflated: checks that it holds one miMATRIX and
// returns that element's payload.
std::vector<uint8_t> inflate_matrix(const std::vector<uint8_t>& z, const std::string& where) {
  z_stream zs{};
  zs.next_in = const_cast<uint8_t*>(z.data());
  zs.avail_in = static_cast<uInt>(z.size());
  ROTOR_CHECK(inflateInit(&zs) == Z_OK, "{}: zlib cannot start inflating", where);
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  bool ended = false;
  uint8_t tag[8];
  const size_t got = inflate_into(zs, tag, 8, ended, where);
  ROTOR_CHECK(got == 8, "{}: compressed element {} after {} bytes, before a whole element tag", where,
              ended ? "ends" : "is truncated", got);
  const uint32_t type = le32(tag);
  const uint64_t n = le32(tag + 4);
  ROTOR_CHECK(type == mat_matrix, "{}: compressed element holds data type {}, expected miMATRIX (14)", where, type);
  ROTOR_CHECK(n <= z.size() * max_deflate_ratio,
              "{}: corrupt compressed element: it announces {} bytes, more than {} compressed bytes can hold", where, n,
              z.size());
  // The payload grows with what inflates, piece by piece, so a lying tag
  // costs no more memory than the data really there.
  std::vector<uint8_t> payload;
  size_t body = 0;
  while (body < n) {
    const size_t piece = static_cast<size_t>(std::min<uint64_t>(n - body, inflate_piece));
    payload.resize(body + piece);
    const size_t got_piece = inflate_into(zs, payload.data() + body, piece, ended, where);
    body += got_piece;
    if (got_piece < piece) break;
  }
  ROTOR_CHECK(body == n, "{}: compressed element {} after {} of the {} bytes its array announces", where,
              ended ? "ends" : "is truncated", body, n);
  if (!ended) {
    uint8_t extra;
    const size_t more = inflate_into(zs, &extra, 1, ended, where);
    ROTOR_CHECK(more == 0, "{}: compressed element holds more than the {} bytes its array announces", where, n);
    ROTOR_CHECK(ended, "{}: truncated compressed element: the zlib stream has no end", where);
  }
  return payload;
}

// Parses an miMATRIX payload. Returns nothing for kinds whose layout differs
// (function handles, opaque objects); non-numeric arrays keep name and class
// only. The real part of a numeric array stays in the payload's buffer.
std::optional<MatArray> parse_matrix(std::vector<uint8_t> payload, const std::string& path, size_t offset) {
  const Span s{payload.data(), payload.size()};
  std::string where = fmt::format("{}: array at byte {}", path, offset);
  const Element flags = read_element(s, 0, where, "the flags element");
  ROTOR_CHECK(flags.type == mat_uint32 && flags.payload.size == 8,
              "{}: array flags have data type {} and {} bytes, expected miUINT32 (6) and 8", where, flags.type,
              flags.payload.size);
  MatArray a;
  const uint32_t flag_word = le32(flags.payload.data);
  a.mx_class = static_cast<int>(flag_word & 0xff);
  a.is_complex = (flag_word & 0x800) != 0;
  if (a.mx_class < mat_class_cell || a.mx_class > mat_class_uint64) return std::nullopt;

  const Element dims = read_element(s, flags.next, where, "the dimensions element");
  ROTOR_CHECK(dims.type == mat_int32 && dims.payload.size >= 8 && dims.payload.size % 4 == 0,
              "{}: dimensions have data type {} and {} bytes, expected miINT32 (5) and at least 2 values", where,
              dims.type, dims.payload.size);
  for (size_t i = 0; i < dims.payload.size; i += 4) {
    const int32_t d = static_cast<int32_t>(le32(dims.payload.data + i));
    ROTOR_CHECK(d >= 0, "{}: dimension {} is {}", where, i / 4 + 1, d);
    a.dims.push_back(d);
  }
  const Element name = read_element(s, dims.next, where, "the name element");
  ROTOR_CHECK(name.type == mat_int8 || name.type == mat_uint8,
              "{}: array name has data type {}, expected miINT8 (1)", where, name.type);
  a.name.assign(reinterpret_cast<const char*>(name.payload.data), name.payload.size);
  if (!a.is_numeric()) return a;

  where = fmt::format("{}: variable '{}'", path, a.name);
  const Element real = read_element(s, name.next, where, "the real part");
  const size_t bytes = type_bytes(real.type);
  ROTOR_CHECK(bytes > 0, "{}: values stored as data type {}, which is not a numeric type", where, real.type);
  const int64_t numel = a.numel();
  ROTOR_CHECK(real.payload.size % bytes == 0 && numel == static_cast<int64_t>(real.payload.size / bytes),
              "{}: dimensions hold {} values but the real part has {} bytes of {}-byte values", where, numel,
              real.payload.size, bytes);
  a.stored_type = real.type;
  // Keep the values without a second copy: drop the bytes before them.
  const size_t start = static_cast<size_t>(real.payload.data - payload.data());
  const size_t size = real.payload.size;
  payload.erase(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(start));
  payload.resize(size);
  a.data = std::move(payload);
  return a;
}

}  // namespace

int64_t MatArray::numel() const {
  int64_t n = 1;
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, d, &n)) return INT64_MAX;
  return n;
}

size_t MatFile::index_of(const std::string& name) const {
  for (size_t i = 0; i < arrays.size(); ++i)
    if (arrays[i].name == name) return i;
  std::vector<std::string> have;
  for (const MatArray& a : arrays) have.push_back("'" + a.name + "'");
  fail("{}: no variable '{}' (the file has {})", path, name,
       have.empty() ? std::string("no array variables") : fmt::format("{}", fmt::join(have, ", ")));
}

const MatArray& MatFile::get(const std::string& name) const { return arrays[index_of(name)]; }

MatArray MatFile::take(const std::string& name) {
  MatArray& a = arrays[index_of(name)];
  std::vector<uint8_t> data = std::move(a.data);
  MatArray out = a;  // name, class and dimensions stay for later messages
  out.data = std::move(data);
  return out;
}

MatFile read_mat_file(const std::string& path) {
  std::error_code ec;
  ROTOR_CHECK(fs::is_regular_file(path, ec), "missing MAT file {}", path);
  const uint64_t size = fs::file_size(path, ec);
  ROTOR_CHECK(!ec, "cannot read the size of {}: {}", path, ec.message());
  std::ifstream in(path, std::ios::binary);
  ROTOR_CHECK(in.good(), "cannot open {}: {}", path, std::strerror(errno));
  auto read = [&](void* out, uint64_t n, uint64_t at) {
    in.read(static_cast<char*>(out), static_cast<std::streamsize>(n));
    ROTOR_CHECK(static_cast<uint64_t>(in.gcount()) == n, "{}: truncated while reading {} bytes at byte {}", path, n,
                at);
  };

  ROTOR_CHECK(size >= header_bytes, "{}: truncated file: {} bytes, but a MAT file starts with a 128-byte header",
              path, size);
  uint8_t head[header_bytes];
  read(head, header_bytes, 0);
  ROTOR_CHECK(std::memcmp(head, "MATLAB", 6) == 0,
              "{}: not a MATLAB MAT file (the header text does not start with 'MATLAB')", path);
  ROTOR_CHECK(!(head[126] == 'M' && head[127] == 'I'),
              "{}: big-endian MAT file; only little-endian files are supported", path);
  ROTOR_CHECK(head[126] == 'I' && head[127] == 'M', "{}: bad MAT header: endian tag {:02x} {:02x}, expected 'IM'",
              path, head[126], head[127]);
  const unsigned version = head[124] | (head[125] << 8);
  ROTOR_CHECK(version != 0x0200,
              "{}: MATLAB 7.3 (HDF5) MAT file; only level-5 files are supported (save it with -v7)", path);
  ROTOR_CHECK(version == 0x0100, "{}: bad MAT header: version 0x{:04x}, expected 0x0100", path, version);

  MatFile file;
  file.path = path;
  uint64_t pos = header_bytes;
  while (pos < size) {
    const uint64_t left = size - pos;
    ROTOR_CHECK(left >= 8, "{}: truncated file: {} stray bytes at byte {} where an element tag starts", path, left,
                pos);
    uint8_t tag[8];
    read(tag, 8, pos);
    const uint32_t type = le32(tag);
    const uint64_t n = le32(tag + 4);
    ROTOR_CHECK(type >> 16 == 0, "{}: corrupt file: a small data element at byte {} outside any array", path, pos);
    ROTOR_CHECK(n <= left - 8, "{}: truncated file: the element at byte {} announces {} bytes but {} are left", path,
                pos, n, left - 8);
    if (type == mat_matrix || type == mat_compressed) {
      std::vector<uint8_t> payload(n);
      read(payload.data(), n, pos + 8);
      if (type == mat_compressed) payload = inflate_matrix(payload, fmt::format("{}: element at byte {}", path, pos));
      if (auto a = parse_matrix(std::move(payload), path, pos)) file.arrays.push_back(std::move(*a));
    } else {
      in.seekg(static_cast<std::streamoff>(n), std::ios::cur);  // other top-level data is not ours to read
    }
    pos += 8 + n;
  }
  return file;
}

std::vector<double> mat_values(const MatArray& a, const std::string& path) {
  ROTOR_CHECK(a.is_numeric(), "{}: variable '{}' is a {} array, expected a numeric one", path, a.name,
              mat_class_name(a.mx_class));
  const size_t bytes = type_bytes(a.stored_type);
  ROTOR_CHECK(bytes > 0 && a.data.size() % bytes == 0, "{}: variable '{}' has no numeric values", path, a.name);
  const size_t n = a.data.size() / bytes;
  std::vector<double> v(n);
  const uint8_t* p = a.data.data();
  auto convert = [&]<class T>(T) {
    for (size_t i = 0; i < n; ++i) {
      T x;
      std::memcpy(&x, p + i * sizeof(T), sizeof(T));
      v[i] = static_cast<double>(x);
    }
  };
  switch (a.stored_type) {
    case mat_int8: convert(int8_t{}); break;
    case mat_uint8: convert(uint8_t{}); break;
    case mat_int16: convert(int16_t{}); break;
    case mat_uint16: convert(uint16_t{}); break;
    case mat_int32: convert(int32_t{}); break;
    case mat_uint32: convert(uint32_t{}); break;
    case mat_single: convert(float{}); break;
    case mat_double: convert(double{}); break;
    case mat_int64: convert(int64_t{}); break;
    case mat_uint64: convert(uint64_t{}); break;
  }
  return v;
}

const char* mat_class_name(int mx_class) {
  static const char* names[] = {"unknown", "cell",  "struct", "object", "char",   "sparse", "double", "single",
                                "int8",    "uint8", "int16",  "uint16", "int32",  "uint32", "int64",  "uint64"};
  return mx_class >= 0 && mx_class <= mat_class_uint64 ? names[mx_class] : "unknown";
}

}  // namespace rotor
