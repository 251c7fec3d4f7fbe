// The Protocol Buffers wire writer; see protobuf.h (hand-written, write-only).
#include "protobuf.h"

#include <bit>
#include <cstring>

namespace nettrain::proto {

static_assert(std::endian::native == std::endian::little, "fixed-width fields are written as host bytes");

void ProtoWriter::raw_varint(std::uint64_t value) {
  // Seven bits per byte, low groups first; the high bit says another byte follows.
  while (value >= 0x80) {
    out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<char>(value));
}

void ProtoWriter::tag(int field, int wire_type) {
  raw_varint(static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire_type));
}

void ProtoWriter::varint(int field, std::uint64_t value) {
  tag(field, 0);
  raw_varint(value);
}

void ProtoWriter::int64(int field, std::int64_t value) { varint(field, static_cast<std::uint64_t>(value)); }

void ProtoWriter::float32(int field, float value) {
  tag(field, 5);
  char b[4];
  std::memcpy(b, &value, 4);
  out_.append(b, 4);
}

void ProtoWriter::bytes(int field, std::string_view data) {
  tag(field, 2);
  raw_varint(data.size());
  out_.append(data);
}

}  // namespace nettrain::proto
