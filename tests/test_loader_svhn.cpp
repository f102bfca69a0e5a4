// SVHN format-2 loader and the MAT-5 reader under it, on .mat files written
// here by a small MAT-5 writer: uncompressed miMATRIX elements and
// miCOMPRESSED (zlib) ones, y stored as double and as uint8. Broken files
// must each give one Error naming the file and the fault, and no prefix or
// random corruption of a good file may crash the reader.
#include <catch2/catch.hpp>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <filesystem>
#include <random>

#include "data/matfile.h"
#include "data/registry.h"
#include "data/svhn.h"
#include "engine/error.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

using Bytes = std::vector<uint8_t>;

void put32(Bytes& b, uint32_t v) {
  const size_t at = b.size();
  b.resize(at + 4);
  std::memcpy(b.data() + at, &v, 4);
}

Bytes cat(std::initializer_list<Bytes> parts) {
  size_t size = 0;
  for (const Bytes& p : parts) size += p.size();
  Bytes out(size);
  size_t at = 0;
  for (const Bytes& p : parts) {
    if (!p.empty()) std::memcpy(out.data() + at, p.data(), p.size());
    at += p.size();
  }
  return out;
}

// A data element: small form (4-byte tag) when the payload fits in 4 bytes,
// else an 8-byte tag; padded to 8 bytes either way.
Bytes element(uint32_t type, const Bytes& payload) {
  const bool small = !payload.empty() && payload.size() <= 4;
  const size_t tag = small ? 4 : 8;
  Bytes e((tag + payload.size() + 7) / 8 * 8, 0);
  const uint32_t first = small ? static_cast<uint32_t>(payload.size()) << 16 | type : type;
  const uint32_t count = static_cast<uint32_t>(payload.size());
  std::memcpy(e.data(), &first, 4);
  if (!small) std::memcpy(e.data() + 4, &count, 4);
  if (!payload.empty()) std::memcpy(e.data() + tag, payload.data(), payload.size());
  return e;
}

// A whole miMATRIX element: flags, dimensions, name, real part.
Bytes matrix(const std::string& name, int mx_class, const std::vector<int32_t>& dims, uint32_t stored_type,
             const Bytes& values) {
  Bytes flags, dim_bytes;
  put32(flags, static_cast<uint32_t>(mx_class));
  put32(flags, 0);
  for (int32_t d : dims) put32(dim_bytes, static_cast<uint32_t>(d));
  Bytes body = cat({element(mat_uint32, flags), element(mat_int32, dim_bytes),
                    element(mat_int8, Bytes(name.begin(), name.end()))});
  if (mx_class >= mat_class_double) body = cat({body, element(stored_type, values)});
  return element(mat_matrix, body);
}

Bytes compressed(const Bytes& element_bytes) {
  uLongf size = compressBound(element_bytes.size());
  Bytes z(size);
  REQUIRE(compress2(z.data(), &size, element_bytes.data(), element_bytes.size(), 6) == Z_OK);
  z.resize(size);
  Bytes tag(8);
  const uint32_t words[2] = {mat_compressed, static_cast<uint32_t>(z.size())};
  std::memcpy(tag.data(), words, 8);
  return cat({tag, z});  // compressed elements are not padded
}

Bytes header() {
  const std::string text = "MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 2015";
  Bytes h(128, ' ');
  std::memcpy(h.data(), text.data(), text.size());
  std::memset(h.data() + 116, 0, 8);  // subsystem data offset: none
  const uint8_t tail[4] = {0x00, 0x01, 'I', 'M'};  // version 0x0100, little-endian
  std::memcpy(h.data() + 124, tail, 4);
  return h;
}

Bytes doubles(const std::vector<double>& v) {
  Bytes b(v.size() * 8);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// n images with pseudo-random pixels: `ours` in (N, 3, 32, 32) row-major,
// returned in MATLAB's 32x32x3xN column-major order.
Bytes svhn_pixels(int n, std::mt19937& rng, Bytes& ours) {
  ours.resize(static_cast<size_t>(n) * 3072);
  for (uint8_t& p : ours) p = static_cast<uint8_t>(rng());
  Bytes matlab(ours.size());
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 32; ++h)
        for (int w = 0; w < 32; ++w)
          matlab[h + 32 * w + 1024 * c + 3072 * i] = ours[i * 3072 + c * 1024 + h * 32 + w];
  return matlab;
}

struct SvhnFile {
  Bytes bytes;
  Bytes images;                 // expected (N, 3, 32, 32)
  std::vector<int32_t> labels;  // expected classes
};

enum class Form { plain, zlib };
enum class YType { as_double, as_uint8, double_stored_as_uint8 };

// A format-2 file with labels `y` (1..10 as in the release).
SvhnFile svhn_file(const std::vector<double>& y, Form form, YType ytype, uint32_t seed) {
  std::mt19937 rng(seed);
  SvhnFile f;
  const int n = static_cast<int>(y.size());
  const Bytes x = matrix("X", mat_class_uint8, {32, 32, 3, n}, mat_uint8, svhn_pixels(n, rng, f.images));
  Bytes y_bytes(y.begin(), y.end());
  const Bytes ym = ytype == YType::as_double ? matrix("y", mat_class_double, {n, 1}, mat_double, doubles(y))
                   : ytype == YType::as_uint8 ? matrix("y", mat_class_uint8, {n, 1}, mat_uint8, y_bytes)
                                              : matrix("y", mat_class_double, {n, 1}, mat_uint8, y_bytes);
  f.bytes = form == Form::plain ? cat({header(), x, ym}) : cat({header(), compressed(x), compressed(ym)});
  for (double v : y) f.labels.push_back(static_cast<int32_t>(v) % 10);
  return f;
}

std::string write_file(const std::string& tag, const Bytes& bytes) {
  const std::string path = temp_dir(tag) + "/train_32x32.mat";
  write_bytes(path, bytes);
  return path;
}

uint32_t get32(const Bytes& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}

void set32(Bytes& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }

}  // namespace

TEST_CASE("svhn loads uncompressed and compressed MAT files with exact pixels and labels", "[loader][svhn]") {
  const std::string dir = temp_dir("svhn");
  const SvhnFile train = svhn_file({10, 1, 5, 9, 10}, Form::plain, YType::as_double, 1);
  const SvhnFile test = svhn_file({3, 10, 7}, Form::zlib, YType::as_uint8, 2);
  write_bytes(dir + "/train_32x32.mat", train.bytes);
  write_bytes(dir + "/test_32x32.mat", test.bytes);
  const DataSplit s = load_data("svhn:" + dir);
  REQUIRE(s.name == "svhn");
  REQUIRE(s.source == dir);
  REQUIRE(s.classes == 10);
  REQUIRE_FALSE(s.natural_images);
  REQUIRE(s.class_names == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
  REQUIRE(s.train.channels == 3);
  REQUIRE(s.train.height == 32);
  REQUIRE(s.train.width == 32);
  REQUIRE(s.train.labels == std::vector<int32_t>{0, 1, 5, 9, 0});
  REQUIRE(s.test.labels == std::vector<int32_t>{3, 0, 7});
  REQUIRE(s.train.images == train.images);
  REQUIRE(s.test.images == test.images);
}

TEST_CASE("svhn reads every storage of y and a single image", "[loader][svhn]") {
  for (const Form form : {Form::plain, Form::zlib})
    for (const YType ytype : {YType::as_double, YType::as_uint8, YType::double_stored_as_uint8}) {
      INFO("compressed " << (form == Form::zlib) << ", y storage " << static_cast<int>(ytype));
      const SvhnFile f = svhn_file({2, 10, 4, 8}, form, ytype, 7);
      const Dataset d = read_svhn_file(write_file("svhn-y", f.bytes));
      REQUIRE(d.labels == std::vector<int32_t>{2, 0, 4, 8});
      REQUIRE(d.images == f.images);
    }
  // MATLAB drops trailing singleton dimensions: one image is X 32x32x3, y 1x1.
  std::mt19937 rng(3);
  Bytes one;
  const Bytes x = matrix("X", mat_class_uint8, {32, 32, 3}, mat_uint8, svhn_pixels(1, rng, one));
  const Bytes y = matrix("y", mat_class_double, {1, 1}, mat_double, doubles({6}));
  const Dataset d = read_svhn_file(write_file("svhn-one", cat({header(), compressed(x), y})));
  REQUIRE(d.size() == 1);
  REQUIRE(d.labels == std::vector<int32_t>{6});
  REQUIRE(d.images == one);
}

TEST_CASE("MAT reader keeps names, classes and dimensions and skips other kinds of arrays", "[loader][svhn]") {
  const Bytes notes = matrix("notes", mat_class_char, {1, 5}, 0, {});
  const Bytes cell = matrix("things", mat_class_cell, {0, 0}, 0, {});
  const Bytes v = matrix("values", mat_class_single, {2, 3}, mat_int16, {1, 0, 0xff, 0xff, 7, 0, 0, 0x80, 2, 0, 3, 0});
  const std::string path = write_file("mat-misc", cat({header(), notes, compressed(cell), v}));
  const MatFile m = read_mat_file(path);
  REQUIRE(m.arrays.size() == 3);
  REQUIRE(m.get("notes").mx_class == mat_class_char);
  REQUIRE(m.get("things").mx_class == mat_class_cell);
  const MatArray& a = m.get("values");
  REQUIRE(a.mx_class == mat_class_single);
  REQUIRE(a.stored_type == mat_int16);
  REQUIRE(a.dims == std::vector<int64_t>{2, 3});
  REQUIRE(a.numel() == 6);
  REQUIRE(mat_values(a, path) == std::vector<double>{1, -1, 7, -32768, 2, 3});
  REQUIRE_THROWS_WITH(mat_values(m.get("notes"), path), Catch::Contains("'notes' is a char array"));
  REQUIRE_THROWS_WITH(m.get("X"),
                      Catch::Contains(path + ": no variable 'X' (the file has 'notes', 'things', 'values')"));
}

TEST_CASE("svhn and MAT reader name the file and the fault of a broken file", "[loader][svhn]") {
  const SvhnFile good = svhn_file({1, 2, 3}, Form::plain, YType::as_double, 5);
  const SvhnFile good_z = svhn_file({1, 2, 3}, Form::zlib, YType::as_double, 5);
  std::mt19937 rng(9);
  Bytes ignored;
  // X of 3 images, uncompressed. Byte offsets: 0 miMATRIX tag (4: its byte
  // count), 8 flags tag, 16 flags, 24 dimensions tag, 32 dimensions, 48 name
  // (small element), 56 real part tag (60: its byte count), 64 pixels.
  const Bytes x3 = matrix("X", mat_class_uint8, {32, 32, 3, 3}, mat_uint8, svhn_pixels(3, rng, ignored));
  auto fails_with = [](const std::string& tag, const Bytes& bytes, const std::string& message) {
    const std::string path = write_file(tag, bytes);
    REQUIRE_THROWS_WITH(read_svhn_file(path), Catch::Contains(path) && Catch::Contains(message));
  };

  SECTION("missing files") {
    const std::string dir = temp_dir("svhn-missing");
    write_bytes(dir + "/train_32x32.mat", good.bytes);
    REQUIRE_THROWS_WITH(load_data("svhn:" + dir), Catch::Contains("missing " + dir + "/test_32x32.mat"));
    REQUIRE_THROWS_WITH(read_svhn_file(dir + "/absent.mat"),
                        Catch::Contains("missing MAT file " + dir + "/absent.mat"));
  }
  SECTION("truncated files") {
    fails_with("svhn-short", Bytes(good.bytes.begin(), good.bytes.begin() + 50),
               "truncated file: 50 bytes, but a MAT file starts with a 128-byte header");
    fails_with("svhn-cut", Bytes(good.bytes.begin(), good.bytes.end() - 40),
               "truncated file: the element at byte 9408 announces 72 bytes but 32 are left");
    fails_with("svhn-cut-x", Bytes(good.bytes.begin(), good.bytes.begin() + 5000),
               "truncated file: the element at byte 128 announces 9272 bytes but 4864 are left");
    fails_with("svhn-cut-z", Bytes(good_z.bytes.begin(), good_z.bytes.end() - 10), "truncated file: the element at");
    fails_with("svhn-stray", cat({good.bytes, {1, 2, 3}}), "truncated file: 3 stray bytes at byte");
  }
  SECTION("bad header") {
    Bytes b = good.bytes;
    std::memcpy(b.data(), "MATRIX", 6);
    fails_with("svhn-text", b, "not a MATLAB MAT file");
    b = good.bytes;
    b[126] = 'M';
    b[127] = 'I';
    fails_with("svhn-endian", b, "big-endian MAT file");
    b = good.bytes;
    b[126] = 'X';
    fails_with("svhn-tag", b, "bad MAT header: endian tag 58 4d");
    b = good.bytes;
    b[125] = 0x02;
    fails_with("svhn-73", b, "MATLAB 7.3 (HDF5) MAT file");
    b = good.bytes;
    b[124] = 0x07;
    fails_with("svhn-version", b, "bad MAT header: version 0x0107, expected 0x0100");
  }
  SECTION("wrong X") {
    std::mt19937 r(4);
    const Bytes y = matrix("y", mat_class_double, {3, 1}, mat_double, doubles({1, 2, 3}));
    fails_with("svhn-x-dims",
               cat({header(), matrix("X", mat_class_uint8, {32, 32, 1, 9}, mat_uint8, svhn_pixels(3, r, ignored)), y}),
               "X has dimensions 32x32x1x9, expected 32x32x3xN");
    fails_with("svhn-x-2d", cat({header(), matrix("X", mat_class_uint8, {3072, 3}, mat_uint8, ignored), y}),
               "X has dimensions 3072x3, expected 32x32x3xN");
    fails_with("svhn-x-class", cat({header(), matrix("X", mat_class_double, {32, 32, 3, 3}, mat_uint8, ignored), y}),
               "X is a double array, expected uint8");
    fails_with("svhn-x-size", cat({header(), matrix("X", mat_class_uint8, {32, 32, 3, 4}, mat_uint8, ignored), y}),
               "variable 'X': dimensions hold 12288 values but the real part has 9216 bytes of 1-byte values");
    fails_with("svhn-no-x", cat({header(), y}), "no variable 'X' (the file has 'y')");
  }
  SECTION("bad labels") {
    auto with_y = [&](const std::vector<double>& y) {
      return cat({header(), x3, matrix("y", mat_class_double, {static_cast<int32_t>(y.size()), 1}, mat_double,
                                       doubles(y))});
    };
    fails_with("svhn-y0", with_y({1, 0, 3}), "label 0 of image 1 is not one of 1..10");
    fails_with("svhn-y11", with_y({1, 2, 11}), "label 11 of image 2 is not one of 1..10");
    fails_with("svhn-yfrac", with_y({2.5, 2, 3}), "label 2.5 of image 0 is not one of 1..10");
    fails_with("svhn-n", with_y({1, 2}), "X holds 3 images but y holds 2 labels");
    fails_with("svhn-y-dims", cat({header(), x3, matrix("y", mat_class_double, {1, 3, 1}, mat_double,
                                                         doubles({1, 2, 3}))}),
               "y has dimensions 1x3x1, expected Nx1");
    fails_with("svhn-no-y", cat({header(), compressed(x3)}), "no variable 'y' (the file has 'X')");
  }
  SECTION("corrupt zlib stream") {
    const Bytes y = compressed(matrix("y", mat_class_double, {3, 1}, mat_double, doubles({1, 2, 3})));
    Bytes z = compressed(x3);
    z[8] = 0x00;  // the zlib header's first byte
    fails_with("svhn-zhead", cat({header(), z, y}), "element at byte 128: corrupt compressed element: zlib says "
                                                    "incorrect header check");
    z = compressed(x3);
    for (size_t i = 40; i < 60; ++i) z[i] ^= 0x5a;
    fails_with("svhn-zbody", cat({header(), z, y}), "corrupt compressed element");
    // A stream cut short inside an element whose byte count still fits the file.
    z = compressed(x3);
    Bytes cut(z.begin(), z.begin() + 200);
    set32(cut, 4, 192);
    fails_with("svhn-zcut", cat({header(), cut, y}), "compressed element is truncated after");
    // The stream holds fewer bytes than its miMATRIX tag announces.
    Bytes longer = x3;
    set32(longer, 4, get32(longer, 4) + 8);
    fails_with("svhn-zshort", cat({header(), compressed(longer), y}),
               "compressed element ends after 9272 of the 9280 bytes its array announces");
    // An absurd announced size must be refused before anything is allocated.
    Bytes huge = x3;
    set32(huge, 4, 0xfffffff0u);
    fails_with("svhn-zhuge", cat({header(), compressed(huge), y}),
               "it announces 4294967280 bytes, more than");
    Bytes not_matrix = x3;
    set32(not_matrix, 0, mat_double);
    fails_with("svhn-ztype", cat({header(), compressed(not_matrix), y}),
               "compressed element holds data type 9, expected miMATRIX (14)");
  }
  SECTION("corrupt array elements") {
    Bytes b = x3;
    set32(b, 8, mat_double);  // the flags' data type
    fails_with("svhn-flags", cat({header(), b}), "array flags have data type 9 and 8 bytes, expected miUINT32");
    b = x3;
    set32(b, 32, 0xffffffffu);  // first dimension: -1
    fails_with("svhn-negdim", cat({header(), b}), "dimension 1 is -1");
    b = x3;
    set32(b, 60, 0x7fffffffu);  // the real part's byte count, far past the array
    fails_with("svhn-real", cat({header(), b}), "variable 'X': truncated array: the real part announces 2147483647 "
                                                "bytes but only 9216 follow");
    b = x3;
    set32(b, 4, 0xfffffff0u);  // the array's own byte count
    fails_with("svhn-top", cat({header(), b}), "the element at byte 128 announces 4294967280 bytes but 9272 are left");
  }
}

TEST_CASE("MAT reader survives every truncation and random corruption", "[loader][svhn]") {
  for (const Form form : {Form::plain, Form::zlib}) {
    const SvhnFile good = svhn_file({4, 10}, form, YType::as_double, 11);
    const std::string dir = temp_dir("mat-fuzz");
    int files = 0, errors = 0, loads = 0;
    // Each variant goes to a new file: rewriting one file in place costs a
    // slow truncation per write on some file systems.
    auto read = [&](const Bytes& bytes) {
      const std::string path = dir + "/" + std::to_string(files++) + ".mat";
      write_bytes(path, bytes);
      try {
        const Dataset d = read_svhn_file(path);
        REQUIRE(d.size() == 2);
        ++loads;
      } catch (const Error&) {
        ++errors;
      }
    };
    // Every prefix of a good file is an Error (at the least a missing y):
    // each length through the header and the first tags, then a sample.
    int prefixes = 0;
    for (size_t n = 0; n < good.bytes.size(); n += n < 300 ? 1 : 97, ++prefixes)
      read(Bytes(good.bytes.begin(), good.bytes.begin() + static_cast<std::ptrdiff_t>(n)));
    REQUIRE(loads == 0);
    REQUIRE(errors == prefixes);
    // Random byte changes, half of them in the header and the first tags: an
    // Error or a clean load, never anything else.
    std::mt19937 rng(form == Form::plain ? 1 : 2);
    errors = loads = 0;
    const int trials = 300;
    for (int trial = 0; trial < trials; ++trial) {
      Bytes b = good.bytes;
      for (int k = 0; k < 3; ++k) b[trial % 2 ? 116 + rng() % 80 : rng() % b.size()] = static_cast<uint8_t>(rng());
      read(b);
    }
    REQUIRE(errors + loads == trials);
    REQUIRE(errors > trials / 4);
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("a compressed MAT element grows with its data, not with the size its tag claims", "[loader][svhn]") {
#if defined(__SANITIZE_ADDRESS__)
  SUCCEED("address-space limits do not apply under AddressSanitizer");
#else
  // 1 MiB of incompressible bytes whose miMATRIX tag claims 10^9: within
  // deflate's 1032:1, so only the data can show the claim is a lie. The old
  // reader allocated (and zeroed) the 10^9 bytes first.
  std::mt19937 rng(4);
  Bytes inner(8 + (1 << 20));
  for (uint8_t& b : inner) b = static_cast<uint8_t>(rng());
  set32(inner, 0, mat_matrix);
  set32(inner, 4, 1000000000u);
  uLongf size = compressBound(inner.size());
  Bytes z(size);
  REQUIRE(compress2(z.data(), &size, inner.data(), inner.size(), 0) == Z_OK);
  z.resize(size);
  Bytes tag(8);
  set32(tag, 0, mat_compressed);
  set32(tag, 4, static_cast<uint32_t>(z.size()));
  const std::string path = write_file("svhn-claim", cat({header(), tag, z}));
  // In a child limited to 256 MiB more address space than it has now.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    struct rlimit lim;
    std::ifstream statm("/proc/self/statm");
    size_t pages = 0;
    statm >> pages;
    lim.rlim_cur = lim.rlim_max = pages * static_cast<size_t>(::sysconf(_SC_PAGE_SIZE)) + (size_t(256) << 20);
    ::setrlimit(RLIMIT_AS, &lim);
    try {
      read_mat_file(path);
    } catch (const Error& e) {
      const bool expected = std::string(e.what()).find("compressed element ends after") != std::string::npos &&
                            std::string(e.what()).find("of the 1000000000 bytes its array announces") !=
                                std::string::npos;
      ::_exit(expected ? 0 : 1);
    } catch (...) {
      ::_exit(2);  // std::bad_alloc: the claim was allocated
    }
    ::_exit(3);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
#endif
}

TEST_CASE("test_only reads test_32x32.mat and never the training file", "[loader][svhn]") {
  const std::string dir = temp_dir("svhn-test-only");
  write_bytes(dir + "/test_32x32.mat", svhn_file({3, 10}, Form::zlib, YType::as_uint8, 2).bytes);
  REQUIRE_THROWS_WITH(load_data("svhn:" + dir), Catch::Contains("missing " + dir + "/train_32x32.mat"));
  const DataSplit s = load_data("svhn:" + dir, 1, DataParts::test_only);
  CHECK(s.train.size() == 0);
  CHECK(s.test.labels == std::vector<int32_t>{3, 0});
}
