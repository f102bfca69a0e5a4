#include "data/svhn.h"

#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>

#include "data/matfile.h"
#include "engine/error.h"

namespace rotor {
namespace {

constexpr int64_t svhn_side = 32, svhn_channels = 3;
constexpr int64_t svhn_plane = svhn_side * svhn_side;

std::string dims_text(const std::vector<int64_t>& dims) { return fmt::format("{}", fmt::join(dims, "x")); }

}  // namespace

Dataset read_svhn_file(const std::string& path) {
  MatFile file = read_mat_file(path);
  MatArray x = file.take("X");
  const MatArray& y = file.get("y");

  ROTOR_CHECK(x.mx_class == mat_class_uint8 && x.stored_type == mat_uint8 && !x.is_complex,
              "{}: X is a {}{} array, expected uint8", path, x.is_complex ? "complex " : "",
              mat_class_name(x.mx_class));
  // MATLAB drops trailing singleton dimensions: one image is 32x32x3.
  const bool dims_ok = (x.dims.size() == 4 || x.dims.size() == 3) && x.dims[0] == svhn_side &&
                       x.dims[1] == svhn_side && x.dims[2] == svhn_channels;
  ROTOR_CHECK(dims_ok, "{}: X has dimensions {}, expected 32x32x3xN (SVHN format 2)", path, dims_text(x.dims));
  const int64_t n = x.dims.size() == 4 ? x.dims[3] : 1;
  ROTOR_CHECK(n > 0, "{}: X holds no images", path);

  ROTOR_CHECK(y.is_numeric() && !y.is_complex, "{}: y is a {}{} array, expected a numeric one", path,
              y.is_complex ? "complex " : "", mat_class_name(y.mx_class));
  ROTOR_CHECK(y.dims.size() == 2 && (y.dims[1] == 1 || y.dims[0] == 1),
              "{}: y has dimensions {}, expected Nx1", path, dims_text(y.dims));
  ROTOR_CHECK(y.numel() == n, "{}: X holds {} images but y holds {} labels", path, n, y.numel());
  const std::vector<double> values = mat_values(y, path);

  Dataset d;
  d.channels = svhn_channels;
  d.height = d.width = svhn_side;
  d.labels.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    const double v = values[i];
    ROTOR_CHECK(v >= 1 && v <= 10 && v == std::floor(v), "{}: label {} of image {} is not one of 1..10", path, v, i);
    d.labels[i] = static_cast<int32_t>(v) % 10;  // 10 is the digit 0
  }
  d.images.resize(x.data.size());
  const int64_t planes = n * svhn_channels;
  for (int64_t p = 0; p < planes; ++p) {
    const uint8_t* src = x.data.data() + p * svhn_plane;  // (w, h): h fastest
    uint8_t* dst = d.images.data() + p * svhn_plane;      // (h, w): w fastest
    for (int64_t h = 0; h < svhn_side; ++h)
      for (int64_t w = 0; w < svhn_side; ++w) dst[h * svhn_side + w] = src[w * svhn_side + h];
  }
  return d;
}

DataSplit load_svhn_dir(const std::string& dir, DataParts parts) {
  const std::string what = "svhn:" + dir;
  std::error_code ec;
  ROTOR_CHECK(std::filesystem::is_directory(dir, ec), "{}: {} is not a directory", what, dir);
  const bool with_train = parts == DataParts::train_and_test;
  for (const char* f : {"train_32x32.mat", "test_32x32.mat"})
    if (with_train || std::string(f) != "train_32x32.mat") ROTOR_CHECK(std::filesystem::is_regular_file(dir + "/" + f, ec), "{}: missing {}/{}", what, dir, f);
  DataSplit s;
  s.name = "svhn";
  s.source = dir;
  s.classes = 10;
  for (int i = 0; i < 10; ++i) s.class_names.push_back(std::to_string(i));
  s.natural_images = false;  // digits: a flip turns a 2 into something else
  if (with_train) s.train = read_svhn_file(dir + "/train_32x32.mat");
  s.test = read_svhn_file(dir + "/test_32x32.mat");
  validate(s, what, parts);
  return s;
}

}  // namespace rotor
