// A reader for MATLAB level-5 MAT files (what `save -v7` writes): the
// numeric arrays of a file by name, compressed or not.
//
// Layout: a 128-byte header (text, subsystem offset, version 0x0100, endian
// tag "IM"), then data elements, each an 8-byte tag (u32 type, u32 byte
// count) or a 4-byte "small element" tag (count in the high 16 bits) with up
// to 4 bytes of data, padded to 8 bytes. A variable is an miMATRIX (14)
// element holding flags, dimensions, name and real part, or an miCOMPRESSED
// (15) element whose zlib stream inflates to one miMATRIX.
//
// Design decision: every length is checked against the bytes that hold it
// before it is used, and nothing is allocated beyond what the file can
// justify (an inflated element at most 1032 times its compressed size, the
// best deflate can do), so a corrupt file is one Error naming the file and
// what was wrong, never an out-of-bounds read or an absurd allocation.
// Little-endian files only (every MATLAB platform of the last 20 years).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rotor {

// MATLAB array classes (mxClassID) of numeric arrays.
enum MatClass : int {
  mat_class_cell = 1,
  mat_class_struct = 2,
  mat_class_object = 3,
  mat_class_char = 4,
  mat_class_sparse = 5,
  mat_class_double = 6,
  mat_class_single = 7,
  mat_class_int8 = 8,
  mat_class_uint8 = 9,
  mat_class_int16 = 10,
  mat_class_uint16 = 11,
  mat_class_int32 = 12,
  mat_class_uint32 = 13,
  mat_class_int64 = 14,
  mat_class_uint64 = 15,
};

// Data element types (miINT8 ...). MATLAB may store an array's values in a
// smaller type than its class (a double array of small integers as miUINT8),
// so the stored type is kept beside the class.
enum MatType : uint32_t {
  mat_int8 = 1,
  mat_uint8 = 2,
  mat_int16 = 3,
  mat_uint16 = 4,
  mat_int32 = 5,
  mat_uint32 = 6,
  mat_single = 7,
  mat_double = 9,
  mat_int64 = 12,
  mat_uint64 = 13,
  mat_matrix = 14,
  mat_compressed = 15,
};

struct MatArray {
  std::string name;
  int mx_class = 0;            // MatClass
  bool is_complex = false;     // the imaginary part is not kept
  std::vector<int64_t> dims;   // MATLAB order: column-major, first index fastest
  uint32_t stored_type = 0;    // MatType of `data` (numeric arrays only)
  std::vector<uint8_t> data;   // the real part as stored, little-endian

  bool is_numeric() const { return mx_class >= mat_class_double && mx_class <= mat_class_uint64; }
  int64_t numel() const;
};

struct MatFile {
  std::string path;
  std::vector<MatArray> arrays;  // every array variable, in file order

  // The variable `name`; throws naming the file and the variables it has.
  const MatArray& get(const std::string& name) const;
  MatArray take(const std::string& name);  // moves the values out; name and shape stay
  size_t index_of(const std::string& name) const;
};

MatFile read_mat_file(const std::string& path);

// A numeric array's values converted to double, whatever type stores them.
std::vector<double> mat_values(const MatArray& a, const std::string& path);

const char* mat_class_name(int mx_class);

}  // namespace rotor
