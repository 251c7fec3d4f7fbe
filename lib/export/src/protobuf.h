// A hand-written Protocol Buffers wire writer: just enough of the encoding to write ONNX files
// without a protobuf library (no new dependency, quick compiles). Only writing, only the wire
// types ONNX needs:
//
//   tag      varint (field_number << 3 | wire_type)
//   0 varint     int32, int64 (negatives as 10-byte two's complement), enums, bools
//   2 length     strings, bytes, nested messages: varint byte count, then the bytes
//   5 32-bit     float, 4 bytes little-endian
//
// Repeated scalars are written one tag per element (proto2's unpacked form; every parser also
// accepts it for packed fields). A nested message is built in its own ProtoWriter and added
// with message(), which copies its bytes behind a length prefix.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nettrain::proto {

class ProtoWriter {
 public:
  void varint(int field, std::uint64_t value);
  void int64(int field, std::int64_t value);  // int32/int64/enum fields
  void float32(int field, float value);
  void bytes(int field, std::string_view data);  // string and bytes fields
  void message(int field, const ProtoWriter& nested) { bytes(field, nested.data()); }

  const std::string& data() const { return out_; }

 private:
  void tag(int field, int wire_type);
  void raw_varint(std::uint64_t value);
  std::string out_;
};

}  // namespace nettrain::proto
