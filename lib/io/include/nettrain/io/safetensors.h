// The safetensors format (what nettrain writes models and checkpoints in):
//
//   bytes 0..7    N, the header length, unsigned 64-bit little-endian
//   bytes 8..8+N  a JSON object: {"<tensor>": {"dtype": "F32", "shape": [..],
//                                 "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
//   then          the data section; offsets are relative to its start; tensors are raw
//                 little-endian, row-major
//
// Model files are untrusted input: open() bounds the header length, checks every dtype, shape
// and offset against the bytes that are really there, and throws ModelFileError naming the file
// and what is wrong before anything is allocated from the file's numbers.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nettrain/core/tensor.h"

namespace nettrain {

struct SafetensorInfo {
  std::string name;
  std::string dtype;  // "F32", "F64", "I64", ...
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // in the data section
};

class SafetensorsFile {
 public:
  // Reads and validates the whole file. Throws IoError if it cannot be read, ModelFileError if it
  // is not a well-formed safetensors file.
  static SafetensorsFile open(const std::string& path);
  // The same from bytes already in memory; `path` is only for messages.
  static SafetensorsFile parse(std::string bytes, const std::string& path);

  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Metadata value or throws ModelFileError naming the missing key.
  const std::string& require_metadata(const std::string& key) const;
  const std::vector<SafetensorInfo>& tensors() const { return tensors_; }
  const SafetensorInfo* find(const std::string& name) const;
  std::uint64_t header_length() const { return header_length_; }

  // Copies F32 tensor `name` into `out`, checking that it exists, is F32 and has `shape`.
  void read_f32(const std::string& name, const std::vector<Index>& shape, std::span<float> out) const;

 private:
  std::string path_;
  std::string bytes_;
  std::uint64_t header_length_ = 0;
  std::size_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<SafetensorInfo> tensors_;  // in header order
};

// Collects tensors and metadata, then writes one file. The tensors are not copied: `data` must
// hold its values until the writer has written (a run's parameters and optimizer state are the
// size of the model; a copy of them, and another of the whole file, made every checkpoint the
// run's peak memory).
class SafetensorsWriter {
 public:
  // Keeps `data` (the product of `shape` floats) by address: its values are read when the file
  // is written, not now.
  void add_f32(const std::string& name, const std::vector<Index>& shape, const float* data);
  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  std::string serialize() const;
  // Writes atomically (write_file_atomic, core/files.h), the tensors straight from their
  // memory; fsynced unless `sync` is false. Throws IoError.
  void write(const std::string& path, bool sync = true) const;

 private:
  struct Entry {
    std::string name;
    std::vector<Index> shape;
    std::span<const float> data;
  };
  // The length and the header (padded to 8 bytes), then each tensor's bytes.
  std::string header() const;
  std::vector<std::string_view> parts(const std::string& head) const;

  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace nettrain
