// IDX reader and writer: magic 00 00 <type> <ndims>, ndims big-endian u32 dims, then the
// big-endian elements. Gzip is recognised by its magic bytes 1f 8b and inflated with zlib while
// streaming; a truncated or corrupt stream is an error, never a short dataset.
//
// Sizes are checked before anything is allocated: a raw file must hold exactly the bytes its
// dims describe; a gzip file cannot inflate to more than 1032 times its size (deflate's limit)
// and we refuse more than 4 GiB of it.
#include <zlib.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"
#include "nettrain/core/mapped_file.h"

namespace nettrain {
namespace {

constexpr std::uint64_t kMaxGzipBytes = 4ull << 30;

bool valid_type(std::uint8_t t) { return t == 0x08 || t == 0x09 || t == 0x0B || t == 0x0C || t == 0x0D || t == 0x0E; }

std::string hex_bytes(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string dims_str(const std::vector<std::uint64_t>& dims) { return fmt::format("[{}]", fmt::join(dims, ", ")); }

// A raw or gzip byte stream with the uncompressed position, for messages.
class Source {
 public:
  explicit Source(const std::string& path) : path_(path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw IoError(path + ": cannot open for reading: " + std::strerror(errno));
    unsigned char m[2] = {0, 0};
    const std::size_t got = std::fread(m, 1, 2, f);
    gzip_ = got == 2 && m[0] == 0x1f && m[1] == 0x8b;
    std::error_code ec;
    file_size_ = std::filesystem::file_size(path, ec);
    if (ec) file_size_ = 0;
    if (!gzip_) {
      std::rewind(f);
      f_ = f;
      return;
    }
    std::fclose(f);
    g_ = gzopen(path.c_str(), "rb");
    if (!g_) throw IoError(path + ": cannot open for reading");
    gzbuffer(g_, 1 << 18);
  }
  ~Source() {
    if (f_) std::fclose(f_);
    if (g_) gzclose(g_);
  }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  bool gzip() const { return gzip_; }
  std::uint64_t file_size() const { return file_size_; }
  std::uint64_t pos() const { return pos_; }
  std::string where() const { return gzip_ ? " (uncompressed)" : ""; }

  // Reads up to n bytes; fewer only at the end of the data. Corrupt gzip throws.
  std::size_t read(void* dst, std::size_t n) {
    auto* p = static_cast<unsigned char*>(dst);
    std::size_t total = 0;
    while (total < n) {
      const std::size_t want = std::min<std::size_t>(n - total, 1u << 30);
      std::size_t got = 0;
      if (gzip_) {
        const int r = gzread(g_, p + total, static_cast<unsigned>(want));
        int err = Z_OK;
        const char* msg = gzerror(g_, &err);
        if (r < 0 || (err != Z_OK && err != Z_BUF_ERROR))
          throw DataError(path_ + ": corrupt gzip data near uncompressed byte " + std::to_string(pos_ + total) + ": " +
                          (msg ? msg : "inflate failed"));
        if (err == Z_BUF_ERROR) truncated_gzip_ = true;  // "unexpected end of file"
        got = static_cast<std::size_t>(std::max(r, 0));
      } else {
        got = std::fread(p + total, 1, want, f_);
        if (std::ferror(f_)) throw IoError(path_ + ": read error");
      }
      total += got;
      if (got < want) break;
    }
    pos_ += total;
    return total;
  }
  bool truncated_gzip() const { return truncated_gzip_; }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  gzFile g_ = nullptr;
  bool gzip_ = false;
  bool truncated_gzip_ = false;
  std::uint64_t file_size_ = 0;
  std::uint64_t pos_ = 0;
};

struct Parsed {
  IdxHeader h;
  std::uint64_t header_bytes = 0;
  std::uint64_t data_bytes = 0;
};

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

Parsed parse_header(Source& src, const std::string& path) {
  unsigned char m[4];
  const std::size_t got = src.read(m, 4);
  if (got < 4)
    throw DataError(path + ": byte 0: expected a 4-byte IDX magic (00 00 <type> <ndims>), found " +
                    (got == 0 ? std::string("an empty file") : std::to_string(got) + " bytes"));
  if (m[0] != 0 || m[1] != 0)
    throw DataError(path + ": byte 0: bad IDX magic: expected 00 00 <type> <ndims>, found " + hex_bytes(m, 4));
  if (!valid_type(m[2]))
    throw DataError(path + ": byte 2: unknown IDX element type 0x" + hex_bytes(m + 2, 1) +
                    ": expected one of 08 (u8), 09 (i8), 0b (i16), 0c (i32), 0d (f32), 0e (f64)");
  if (m[3] == 0) throw DataError(path + ": byte 3: expected at least 1 dimension, found 0");
  Parsed p;
  p.h.type = static_cast<IdxType>(m[2]);
  p.h.gzip = src.gzip();
  const std::size_t nd = m[3];
  std::vector<unsigned char> d(nd * 4);
  const std::size_t gd = src.read(d.data(), d.size());
  if (gd < d.size())
    throw DataError(path + ": byte " + std::to_string(4 + gd) + src.where() + ": truncated header: expected " +
                    std::to_string(nd) + " dims (" + std::to_string(nd * 4) + " bytes), found " + std::to_string(gd) +
                    " bytes");
  std::uint64_t count = 1;
  bool overflow = false;
  for (std::size_t i = 0; i < nd; ++i) {
    p.h.dims.push_back(be32(&d[i * 4]));
    // nettrain has no use for empty arrays, and a zero would hide the other dims' overflow.
    if (p.h.dims.back() == 0)
      throw DataError(path + ": byte " + std::to_string(4 + 4 * i) + src.where() + ": dimension " + std::to_string(i) +
                      " is 0: expected a positive size");
    overflow |= __builtin_mul_overflow(count, p.h.dims.back(), &count);
  }
  overflow |= __builtin_mul_overflow(count, idx_type_size(p.h.type), &p.data_bytes);
  p.header_bytes = 4 + 4 * nd;
  if (overflow || p.data_bytes > (std::uint64_t{1} << 62))
    throw DataError(path + ": bytes 4.." + std::to_string(p.header_bytes) + ": dims " + dims_str(p.h.dims) + " of " +
                    idx_type_name(p.h.type) +
                    " overflow: expected a total size below 2^62 bytes; the header is corrupt");
  if (!src.gzip()) {
    const std::uint64_t have = src.file_size() >= p.header_bytes ? src.file_size() - p.header_bytes : 0;
    if (have < p.data_bytes)
      throw DataError(path + ": byte " + std::to_string(src.file_size()) + ": truncated: header dims " +
                      dims_str(p.h.dims) + " of " + idx_type_name(p.h.type) + " need " + std::to_string(p.data_bytes) +
                      " data bytes, the file holds " + std::to_string(have));
    if (have > p.data_bytes)
      throw DataError(path + ": byte " + std::to_string(p.header_bytes + p.data_bytes) +
                      ": expected the end of file after " + "the data of dims " + dims_str(p.h.dims) + ", found " +
                      std::to_string(have - p.data_bytes) + " more bytes");
  } else {
    const std::uint64_t bound = std::min(kMaxGzipBytes, src.file_size() * 1032 + 4096);
    if (p.data_bytes > bound)
      throw DataError(path + ": bytes 4.." + std::to_string(p.header_bytes) + " (uncompressed): dims " +
                      dims_str(p.h.dims) + " of " + idx_type_name(p.h.type) + " need " + std::to_string(p.data_bytes) +
                      " bytes, but a gzip file of " + std::to_string(src.file_size()) + " bytes holds at most " +
                      std::to_string(bound) + " (limit 4 GiB)");
  }
  return p;
}

void swap_to_host(std::vector<std::uint8_t>& data, std::size_t elsize) {
  if constexpr (std::endian::native == std::endian::big) return;
  if (elsize == 1) return;
  for (std::size_t i = 0; i + elsize <= data.size(); i += elsize) std::reverse(&data[i], &data[i] + elsize);
}

template <typename T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

std::size_t idx_type_size(IdxType t) {
  switch (t) {
    case IdxType::u8:
    case IdxType::i8: return 1;
    case IdxType::i16: return 2;
    case IdxType::i32:
    case IdxType::f32: return 4;
    case IdxType::f64: return 8;
  }
  return 1;
}

std::string idx_type_name(IdxType t) {
  switch (t) {
    case IdxType::u8: return "u8";
    case IdxType::i8: return "i8";
    case IdxType::i16: return "i16";
    case IdxType::i32: return "i32";
    case IdxType::f32: return "f32";
    case IdxType::f64: return "f64";
  }
  return "?";
}

std::uint64_t IdxHeader::count() const {
  std::uint64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

std::uint64_t IdxArray::count() const {
  std::uint64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

double IdxArray::at(std::uint64_t i) const {
  const std::uint8_t* p = data.data() + i * idx_type_size(type);
  switch (type) {
    case IdxType::u8: return *p;
    case IdxType::i8: return static_cast<std::int8_t>(*p);
    case IdxType::i16: return load<std::int16_t>(p);
    case IdxType::i32: return load<std::int32_t>(p);
    case IdxType::f32: return load<float>(p);
    case IdxType::f64: return load<double>(p);
  }
  return 0;
}

std::vector<float> IdxArray::to_float() const {
  const std::uint64_t n = count();
  std::vector<float> out(n);
  const std::uint8_t* p = data.data();
  switch (type) {
    case IdxType::u8:
      for (std::uint64_t i = 0; i < n; ++i) out[i] = p[i];
      break;
    case IdxType::i8:
      for (std::uint64_t i = 0; i < n; ++i) out[i] = static_cast<std::int8_t>(p[i]);
      break;
    case IdxType::i16:
      for (std::uint64_t i = 0; i < n; ++i) out[i] = load<std::int16_t>(p + 2 * i);
      break;
    case IdxType::i32:
      for (std::uint64_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<std::int32_t>(p + 4 * i));
      break;
    case IdxType::f32:
      if (n > 0) std::memcpy(out.data(), p, n * 4);  // an empty array's data() may be null
      break;
    case IdxType::f64:
      for (std::uint64_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<double>(p + 8 * i));
      break;
  }
  return out;
}

IdxHeader read_idx_header(const std::string& path) {
  Source src(path);
  return parse_header(src, path).h;
}

IdxArray read_idx(const std::string& path) {
  Source src(path);
  const Parsed p = parse_header(src, path);
  IdxArray a;
  a.type = p.h.type;
  a.dims = p.h.dims;
  a.data.resize(p.data_bytes);
  const std::size_t got = src.read(a.data.data(), a.data.size());
  if (got < p.data_bytes)
    throw DataError(path + ": byte " + std::to_string(p.header_bytes + got) + src.where() + ": truncated" +
                    (src.gzip() ? " gzip stream" : "") + ": header dims " + dims_str(p.h.dims) + " of " +
                    idx_type_name(p.h.type) + " need " + std::to_string(p.data_bytes) + " data bytes, found " +
                    std::to_string(got));
  if (src.gzip()) {
    // Reading past the end checks the gzip trailer (CRC and length) and finds trailing data.
    unsigned char extra;
    const std::size_t more = src.read(&extra, 1);
    if (more > 0)
      throw DataError(path + ": byte " + std::to_string(p.header_bytes + p.data_bytes) +
                      " (uncompressed): expected the end of data after dims " + dims_str(p.h.dims) +
                      ", found more bytes");
    if (src.truncated_gzip())
      throw DataError(path + ": truncated gzip stream: the data is complete but the gzip trailer is missing");
  }
  swap_to_host(a.data, idx_type_size(a.type));
  return a;
}

void write_idx(const std::string& path, const IdxArray& a, bool gzip) {
  if (a.dims.empty() || a.dims.size() > 255)
    throw DataError(path + ": IDX needs 1..255 dims, got " + std::to_string(a.dims.size()));
  const std::size_t es = idx_type_size(a.type);
  if (a.data.size() != a.count() * es)
    throw DataError(path + ": IDX dims " + dims_str(a.dims) + " need " + std::to_string(a.count() * es) +
                    " data bytes, got " + std::to_string(a.data.size()));
  std::string out;
  out.reserve(4 + 4 * a.dims.size() + a.data.size());
  out += '\0';
  out += '\0';
  out += static_cast<char>(a.type);
  out += static_cast<char>(a.dims.size());
  for (auto d : a.dims) {
    if (d > 0xffffffffull) throw DataError(path + ": IDX dim " + std::to_string(d) + " does not fit in 32 bits");
    for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((d >> s) & 0xff);
  }
  const std::size_t start = out.size();
  out.append(reinterpret_cast<const char*>(a.data.data()), a.data.size());
  if constexpr (std::endian::native == std::endian::little) {
    if (es > 1)
      for (std::size_t i = start; i < out.size(); i += es) std::reverse(&out[i], &out[i] + es);
  }
  if (!gzip) {
    write_file_atomic(path, out);
    return;
  }
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw IoError(path + ": deflateInit failed");
  std::string gz(deflateBound(&zs, static_cast<uLong>(out.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(out.data());
  zs.avail_in = static_cast<uInt>(out.size());
  zs.next_out = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_out = static_cast<uInt>(gz.size());
  const int r = deflate(&zs, Z_FINISH);
  gz.resize(zs.total_out);
  deflateEnd(&zs);
  if (r != Z_STREAM_END) throw IoError(path + ": gzip compression failed");
  write_file_atomic(path, gz);
}

Dataset load_idx(const std::string& images, const std::string& labels) {
  IdxArray img;
  Dataset d;
  const IdxHeader h = read_idx_header(images);  // for a raw file: its size checked against the dims
  if (!h.gzip && h.type == IdxType::u8 && data_mmap_enabled()) {
    // Mapped: the pages are the kernel's page cache, read a batch at a time.
    auto map = std::make_shared<MappedFile>(images);
    const std::size_t header_bytes = 4 + 4 * h.dims.size();
    if (map->size() != header_bytes + h.count())
      throw DataError(images + ": changed while being opened: expected " + std::to_string(header_bytes + h.count()) +
                      " bytes (header dims " + dims_str(h.dims) + "), found " + std::to_string(map->size()));
    img.type = h.type;
    img.dims = h.dims;
    d.mapped = std::move(map);
    d.mapped_offset = header_bytes;
    d.mapped_u8 = true;
  } else {
    img = read_idx(images);
  }
  d.source = images;
  d.num_samples = static_cast<Index>(img.dims[0]);
  std::vector<Index> shape;
  for (std::size_t i = 1; i < img.dims.size(); ++i) shape.push_back(static_cast<Index>(img.dims[i]));
  if (shape.empty()) shape.push_back(1);
  d.sample_shape = Shape(std::move(shape));
  if (d.num_samples == 0)
    throw DataError(images + ": bytes 4..8: expected at least one sample, found dims " + dims_str(img.dims));
  if (img.type == IdxType::u8) {
    if (!d.mapped) d.x_u8 = std::move(img.data);
  } else {
    d.x_f32 = img.to_float();
    const std::size_t hb = 4 + 4 * img.dims.size();
    for (std::size_t i = 0; i < d.x_f32.size(); ++i)
      if (!std::isfinite(d.x_f32[i]))
        throw DataError(images + ": byte " + std::to_string(hb + i * idx_type_size(img.type)) + ": element " +
                        std::to_string(i) + ": expected a finite number, found " + std::to_string(img.at(i)));
  }
  if (labels.empty()) return d;
  d.source = images + " + " + labels;
  d.labels = idx_labels(read_idx(labels), labels, img.dims[0], images);
  std::int32_t max_label = -1;
  for (const std::int32_t v : d.labels) max_label = std::max(max_label, v);
  d.num_classes = max_label + 1;
  return d;
}

std::vector<std::int32_t> idx_labels(const IdxArray& lab, const std::string& path, std::uint64_t num_samples,
                                     const std::string& images) {
  if (lab.type == IdxType::f32 || lab.type == IdxType::f64)
    throw DataError(path + ": byte 2: labels must have an integer element type (u8, i8, i16, i32), found " +
                    idx_type_name(lab.type));
  if (!(lab.dims.size() == 1 || (lab.dims.size() == 2 && lab.dims[1] == 1)))
    throw DataError(path + ": bytes 4.." + std::to_string(4 + 4 * lab.dims.size()) +
                    ": expected labels dims [N], found " + dims_str(lab.dims));
  if (lab.dims[0] != num_samples)
    throw DataError(path + ": bytes 4..8: expected " + std::to_string(num_samples) + " labels (the sample count of " +
                    images + "), found " + std::to_string(lab.dims[0]));
  std::vector<std::int32_t> out(lab.dims[0]);
  const std::size_t hb = 4 + 4 * lab.dims.size();
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto v = static_cast<std::int32_t>(lab.at(i));
    if (v > 2'000'000'000)  // max_label + 1 must not overflow
      throw DataError(path + ": byte " + std::to_string(hb + i * idx_type_size(lab.type)) + ": label " +
                      std::to_string(i) + ": expected a class index below 2000000000, found " + std::to_string(v));
    if (v < 0)
      throw DataError(path + ": byte " + std::to_string(hb + i * idx_type_size(lab.type)) + ": label " +
                      std::to_string(i) + ": expected a class index >= 0, found " + std::to_string(v));
    out[i] = v;
  }
  return out;
}

}  // namespace nettrain
