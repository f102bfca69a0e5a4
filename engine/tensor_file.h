// The rotor tensor file: a JSON header plus named tensors, used for model
// files and training checkpoints.
//
// Layout (little-endian):
//   "ROTORTF\0"  u32 version  u64 header_len  header (JSON text)
//   u64 count, then per tensor: u32 name_len, name, u8 dtype, u8 rank,
//   i64 dims[rank], u64 byte_count, raw data
//   u32 CRC-32 (zlib) of every byte before it
// Writes go to "<path>.tmp" and are renamed over the target only when
// complete and flushed, then the directory is flushed, so an interrupted
// write (or a crash soon after) never leaves a half file or loses the rename.
// Reads check every length against the file size and the checksum before
// anything is used, and name the file and the problem when they fail.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/json.h"
#include "engine/tensor.h"

namespace rotor {

struct TensorFile {
  Json header;
  std::vector<std::pair<std::string, Tensor>> tensors;  // host tensors, file order

  const Tensor* find(const std::string& name) const;
};

constexpr uint32_t tensor_file_version = 1;

void write_tensor_file(Context& ctx, const std::string& path, const Json& header,
                       const std::vector<std::pair<std::string, const Tensor*>>& tensors);
// Refuses directories, pipes and devices before reading, and a file without
// the magic bytes after reading 8 of them.
TensorFile read_tensor_file(const std::string& path);
// The same checks on a file's contents in memory (`path` names it in errors).
TensorFile parse_tensor_file(const std::vector<char>& data, const std::string& path);

}  // namespace rotor
