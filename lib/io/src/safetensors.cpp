// safetensors reading (validated) and writing; see safetensors.h for the layout.
#include "nettrain/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "nettrain/core/errors.h"
#include "nettrain/core/files.h"

namespace nettrain {

static_assert(std::endian::native == std::endian::little, "nettrain writes tensors in host order, little-endian");

namespace {

constexpr std::uint64_t kMaxHeader = 100u * 1024u * 1024u;

std::size_t dtype_size(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2") return 1;
  return 0;
}

std::string shape_str(const std::vector<std::int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::string& path) { return parse(read_file(path), path); }

SafetensorsFile SafetensorsFile::parse(std::string bytes, const std::string& path) {
  SafetensorsFile f;
  f.path_ = path;
  auto fail = [&](const std::string& msg) -> void { throw ModelFileError(path + ": " + msg); };
  if (bytes.size() < 8)
    fail("file is " + std::to_string(bytes.size()) + " bytes; a safetensors file starts with an 8-byte header length");
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  // A text file (a config, a CSV) read as a length gives an absurd number: say what it is first.
  if (n > kMaxHeader)
    fail("not a safetensors file: header length " + std::to_string(n) + " at byte 0 exceeds the limit of " +
         std::to_string(kMaxHeader) + " bytes");
  if (n > bytes.size() - 8)
    fail("header length " + std::to_string(n) + " at byte 0 is larger than the " + std::to_string(bytes.size() - 8) +
         " bytes that follow it (truncated or not a safetensors file)");
  f.header_length_ = n;
  f.data_start_ = 8 + static_cast<std::size_t>(n);
  const std::uint64_t data_size = bytes.size() - f.data_start_;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + static_cast<std::ptrdiff_t>(f.data_start_));
  } catch (const nlohmann::json::parse_error& e) {
    fail("header is not valid JSON (byte " + std::to_string(8 + e.byte - 1) + " of the file): " + e.what());
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail("header is not a JSON object");
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail("__metadata__ is not an object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) fail("__metadata__/" + mk + " is not a string");
        f.metadata_[mk] = mv.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor \"" + key + "\": ";
    if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") || !value.contains("data_offsets"))
      fail(where + "expected an object with dtype, shape and data_offsets");
    SafetensorInfo t;
    t.name = key;
    if (!value["dtype"].is_string()) fail(where + "dtype is not a string");
    t.dtype = value["dtype"].get<std::string>();
    const std::size_t esize = dtype_size(t.dtype);
    if (esize == 0) fail(where + "unknown dtype \"" + t.dtype + "\"");
    const auto& shape = value["shape"];
    if (!shape.is_array() || shape.size() > 16) fail(where + "shape is not an array of at most 16 sizes");
    std::uint64_t count = 1;
    for (const auto& d : shape) {
      if (!d.is_number_unsigned()) fail(where + "shape holds " + d.dump() + ", expected a non-negative integer");
      const auto v = d.get<std::uint64_t>();
      if (v != 0 && count > std::numeric_limits<std::uint64_t>::max() / v / esize)
        fail(where + "shape " + shape.dump() + " overflows");
      count *= v;
      t.shape.push_back(static_cast<std::int64_t>(v));
    }
    const auto& off = value["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(where + "data_offsets is not [begin, end]");
    t.begin = off[0].get<std::uint64_t>();
    t.end = off[1].get<std::uint64_t>();
    if (t.begin > t.end || t.end > data_size)
      fail(where + "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
           "] fall outside the data section of " + std::to_string(data_size) + " bytes");
    if (t.end - t.begin != count * esize)
      fail(where + "shape " + shape_str(t.shape) + " of " + t.dtype + " needs " + std::to_string(count * esize) +
           " bytes, data_offsets give " + std::to_string(t.end - t.begin));
    f.tensors_.push_back(std::move(t));
  }
  std::vector<const SafetensorInfo*> by_offset;
  for (const auto& t : f.tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end && by_offset[i]->begin != by_offset[i]->end)
      fail("tensors \"" + by_offset[i - 1]->name + "\" and \"" + by_offset[i]->name + "\" overlap");
  f.bytes_ = std::move(bytes);
  return f;
}

const std::string& SafetensorsFile::require_metadata(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end())
    throw ModelFileError(path_ + ": __metadata__ has no \"" + key + "\" (not a nettrain model file?)");
  return it->second;
}

const SafetensorInfo* SafetensorsFile::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

void SafetensorsFile::read_f32(const std::string& name, const std::vector<Index>& shape, std::span<float> out) const {
  const SafetensorInfo* t = find(name);
  if (t == nullptr) throw ModelFileError(path_ + ": tensor \"" + name + "\" is missing");
  if (t->dtype != "F32") throw ModelFileError(path_ + ": tensor \"" + name + "\": expected dtype F32, got " + t->dtype);
  std::vector<std::int64_t> want(shape.begin(), shape.end());
  if (t->shape != want)
    throw ModelFileError(path_ + ": tensor \"" + name + "\": expected shape " + shape_str(want) + ", got " +
                         shape_str(t->shape));
  if (out.size() * sizeof(float) != t->end - t->begin)
    throw ModelFileError(path_ + ": tensor \"" + name + "\": size does not match its destination");
  std::memcpy(out.data(), bytes_.data() + data_start_ + t->begin, t->end - t->begin);
}

void SafetensorsWriter::add_f32(const std::string& name, const std::vector<Index>& shape, const float* data) {
  Index n = 1;
  for (Index d : shape) n *= d;
  entries_.push_back({name, shape, std::span<const float>(data, static_cast<std::size_t>(n))});
}

std::string SafetensorsWriter::header() const {
  nlohmann::json header = nlohmann::json::object();
  std::uint64_t offset = 0;
  for (const auto& e : entries_) {
    const std::uint64_t bytes = e.data.size() * sizeof(float);
    header[e.name] = {{"dtype", "F32"}, {"shape", e.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // keep the data section 8-byte aligned
  const std::uint64_t n = h.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + h;
}

std::vector<std::string_view> SafetensorsWriter::parts(const std::string& head) const {
  std::vector<std::string_view> out{head};
  for (const auto& e : entries_) out.emplace_back(reinterpret_cast<const char*>(e.data.data()), e.data.size_bytes());
  return out;
}

std::string SafetensorsWriter::serialize() const {
  const std::string h = header();
  const std::vector<std::string_view> all = parts(h);
  std::size_t size = 0;
  for (const std::string_view part : all) size += part.size();
  std::string out;
  out.reserve(size);
  for (const std::string_view part : all) out += part;
  return out;
}

void SafetensorsWriter::write(const std::string& path, bool sync) const {
  const std::string h = header();
  write_file_atomic(path, parts(h), sync);
}

}  // namespace nettrain
