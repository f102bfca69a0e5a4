#include "tests/support/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "engine/error.h"

namespace rotor::test {

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<float> NpyArray::as_float() const { return std::vector<float>(values.begin(), values.end()); }

std::vector<int32_t> NpyArray::as_int32() const {
  std::vector<int32_t> out;
  for (double v : values) out.push_back(static_cast<int32_t>(v));
  return out;
}

// Value of `key` in a header like "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }".
static std::string header_field(const std::string& header, const std::string& key, const std::string& path) {
  const size_t k = header.find("'" + key + "'");
  ROTOR_CHECK(k != std::string::npos, "{}: npy header has no '{}'", path, key);
  size_t p = header.find(':', k) + 1;
  while (header[p] == ' ') ++p;
  const char open = header[p];
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const size_t end = header.find(close, p + 1);
  return header.substr(p, end - p + (close == ',' ? 0 : 1));
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  ROTOR_CHECK(in.good(), "cannot open {}", path);
  const std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ROTOR_CHECK(data.size() >= 10 && std::memcmp(data.data(), "\x93NUMPY", 6) == 0, "{}: not an npy file", path);
  ROTOR_CHECK(data[6] == 1, "{}: npy version {} (expected 1)", path, int(data[6]));
  const size_t header_len = static_cast<uint8_t>(data[8]) | (static_cast<size_t>(static_cast<uint8_t>(data[9])) << 8);
  ROTOR_CHECK(10 + header_len <= data.size(), "{}: truncated npy header", path);
  const std::string header(data.data() + 10, header_len);
  const std::string descr = header_field(header, "descr", path);
  ROTOR_CHECK(descr == "'<f8'" || descr == "'<i8'", "{}: dtype {} (expected <f8 or <i8)", path, descr);
  ROTOR_CHECK(header_field(header, "fortran_order", path) == "False", "{}: Fortran order is not supported", path);
  NpyArray a;
  const std::string shape = header_field(header, "shape", path);
  for (size_t p = 1; p < shape.size();) {
    while (p < shape.size() && (shape[p] == ' ' || shape[p] == ',')) ++p;
    if (p >= shape.size() || shape[p] == ')') break;
    size_t used = 0;
    a.shape.push_back(std::stoll(shape.substr(p), &used));
    p += used;
  }
  const size_t n = static_cast<size_t>(a.numel());
  ROTOR_CHECK(data.size() == 10 + header_len + 8 * n, "{}: {} data bytes for {} elements", path,
              data.size() - 10 - header_len, n);
  const char* raw = data.data() + 10 + header_len;
  a.values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (descr == "'<f8'") {
      std::memcpy(&a.values[i], raw + 8 * i, 8);
    } else {
      int64_t v;
      std::memcpy(&v, raw + 8 * i, 8);
      a.values[i] = static_cast<double>(v);
    }
  }
  return a;
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& values) {
  int64_t n = 1;
  std::string dims;
  for (int64_t d : shape) {
    n *= d;
    dims += std::to_string(d) + ", ";
  }
  ROTOR_CHECK(n == static_cast<int64_t>(values.size()), "{}: {} values for {} elements", path, values.size(), n);
  if (!dims.empty()) dims.pop_back();  // "2, 3," and "4,"
  if (shape.size() > 1) dims.pop_back();  // "(2, 3)" but "(4,)"
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic, version 1.0, header length; the header padded to 64 bytes and ended by a newline.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.write(reinterpret_cast<const char*>(&len), 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
  ROTOR_CHECK(out.good(), "cannot write {}", path);
}

}  // namespace rotor::test
