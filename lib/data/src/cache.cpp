// The data cache: a parsed CSV kept as a typed binary file, so later runs map it instead of
// parsing the text again.
//
// One file per (CSV path, CSV options), named by a hash of the two, in data_cache_dir():
//
//   bytes 0..8    "NTCACHE\0"
//   bytes 8..12   format version, u32 little-endian (kCacheVersion)
//   bytes 12..16  0
//   bytes 16..24  length M of the meta JSON, u64
//   bytes 24..32  checksum of bytes 32..end (hash64 in 4 MiB blocks, see checksum())
//   bytes 32..32+M  meta JSON: the key (CSV path, size, mtime, content hash of sampled blocks,
//                   options), the shape, task, classes, names and the offsets of the blocks
//   features at features_offset (64-byte aligned): N*F u8, or N*F f32 in host byte order
//   labels at labels_offset: N i32;  targets at targets_offset: N*T f32
//
// A cache file is used only when its magic, version, size, checksum and key all match; anything
// else is a miss and the file is replaced. Writes go through write_file_atomic (not fsynced: a
// machine crash can at worst leave a file that fails its checksum).
#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "nettrain/core/errors.h"
#include "nettrain/core/parallel.h"
#include "nettrain/data/data.h"

namespace nettrain {
namespace {

constexpr char kMagic[8] = {'N', 'T', 'C', 'A', 'C', 'H', 'E', '\0'};
constexpr std::uint32_t kCacheVersion = 1;
constexpr std::size_t kHeaderBytes = 32;
constexpr std::size_t kHashBlock = std::size_t{4} << 20;

bool g_cache_enabled = true;

constexpr std::uint64_t kP1 = 0x9E3779B185EBCA87ull, kP2 = 0xC2B2AE3D27D4EB4Full, kP3 = 0x165667B19E3779F9ull;

std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::uint64_t mix(std::uint64_t acc, std::uint64_t w) { return std::rotl(acc + w * kP2, 31) * kP1; }

// A 64-bit hash of n bytes: four interleaved lanes of multiply-rotate rounds over 8-byte words.
std::uint64_t hash64(const std::uint8_t* p, std::size_t n, std::uint64_t seed) {
  std::uint64_t a[4] = {seed + kP1, seed + kP2, seed, seed - kP1};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int l = 0; l < 4; ++l) a[l] = mix(a[l], load64(p + i + 8 * l));
  std::uint64_t h = std::rotl(a[0], 1) + std::rotl(a[1], 7) + std::rotl(a[2], 12) + std::rotl(a[3], 18);
  for (; i + 8 <= n; i += 8) h = mix(h, load64(p + i));
  for (; i < n; ++i) h = mix(h, p[i]);
  h ^= n * kP3;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  return h;
}

// The hash of n bytes in fixed 4 MiB blocks over the pool, then of the blocks' hashes: the same
// on any number of threads.
std::uint64_t checksum(const std::uint8_t* p, std::size_t n) {
  const std::size_t blocks = (n + kHashBlock - 1) / kHashBlock;
  std::vector<std::uint64_t> h(blocks);
  parallel_for_chunks(static_cast<std::int64_t>(blocks), [&](std::int64_t b) {
    const std::size_t at = static_cast<std::size_t>(b) * kHashBlock;
    h[static_cast<std::size_t>(b)] = hash64(p + at, std::min(kHashBlock, n - at), 0);
  });
  return hash64(reinterpret_cast<const std::uint8_t*>(h.data()), h.size() * 8, n);
}

std::string hex(std::uint64_t v) { return fmt::format("{:016x}", v); }

// The content hash of a CSV: all of it up to 1 MiB; else its first and last 256 KiB and 64
// blocks of 4 KiB spread evenly between them. An edit elsewhere in a large file that keeps its
// size and mtime is not seen (README "Data cache").
std::string content_hash(const std::string& path, std::uint64_t size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError("cannot open " + path + ": " + std::strerror(errno));
  std::vector<std::pair<std::uint64_t, std::size_t>> spans;  // offset, bytes
  if (size <= (1u << 20)) {
    spans.emplace_back(0, size);
  } else {
    spans.emplace_back(0, 256u << 10);
    for (std::uint64_t k = 0; k < 64; ++k) spans.emplace_back((256u << 10) + (size - (768u << 10)) * k / 64, 4096);
    spans.emplace_back(size - (256u << 10), 256u << 10);
  }
  std::uint64_t h = size;
  std::vector<std::uint8_t> buf;
  for (const auto& [off, len] : spans) {
    buf.resize(len);
    std::size_t got = 0;
    while (got < len) {
      const ssize_t r = ::pread(fd, buf.data() + got, len - got, static_cast<off_t>(off + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    h = hash64(buf.data(), got, h);
  }
  ::close(fd);
  return hex(h);
}

std::string column_str(const std::optional<ColumnRef>& c) { return c ? c->str() : "-"; }

// Every CSV option that changes the parse, as text.
std::string options_key(const CsvOptions& o) {
  std::string s = fmt::format(
      "header={} delimiter={} labeled={} label={} fallback={} task={} classes={} targets=", static_cast<int>(o.header),
      static_cast<int>(o.delimiter), o.labeled, column_str(o.label_column), column_str(o.fallback_label_column),
      to_string(o.task), o.num_classes);
  for (const auto& t : o.target_columns) s += t.str() + ";";
  return s;
}

// The key of a CSV as it is now: path, size, mtime, content hash, options.
nlohmann::json csv_key(const std::string& path, const CsvOptions& opts) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw IoError("cannot stat " + path + ": " + std::strerror(errno));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::int64_t mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return {{"csv", path},
          {"size", size},
          {"mtime_ns", mtime_ns},
          {"content_hash", content_hash(path, size)},
          {"options", options_key(opts)}};
}

std::size_t align64(std::size_t n) { return (n + 63) & ~std::size_t{63}; }

// Why a key does not match, in words ("" when it does).
std::string key_mismatch(const nlohmann::json& have, const nlohmann::json& want) {
  for (const char* k : {"csv", "options", "size", "mtime_ns", "content_hash"})
    if (have.value(k, nlohmann::json()) != want[k])
      return std::string(k == std::string("csv")       ? "another CSV path"
                         : k == std::string("options") ? "other CSV options"
                                                       : std::string("the CSV changed (") + k + ")");
  return "";
}

// A cache file's dataset, or the reason it cannot be used.
struct Loaded {
  std::optional<Dataset> data;
  std::string why_not;
};

Loaded fail_load(std::string why) { return Loaded{std::nullopt, std::move(why)}; }

// A block of the cache file that its meta data places past the end is a corrupt file (a miss).
void check_block(const MappedFile& f, std::size_t off, std::size_t bytes) {
  if (off > f.size() || bytes > f.size() - off) throw IoError("corrupt meta data (a block past the end)");
}

template <typename T>
void copy_out(const MappedFile& f, std::size_t off, std::size_t count, std::vector<T>& out) {
  check_block(f, off, count * sizeof(T));
  out.resize(count);
  if (count) std::memcpy(out.data(), f.data() + off, count * sizeof(T));
}

// Reads the cache file at `file` if it is whole, of this version and for this key.
Loaded load_cache(const std::string& file, const nlohmann::json& key) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return fail_load("none yet");
  auto map = std::make_shared<MappedFile>(file);
  const std::uint8_t* p = map->data();
  const std::size_t n = map->size();
  if (n < kHeaderBytes || std::memcmp(p, kMagic, 8) != 0) return fail_load("not a cache file (truncated or corrupt)");
  std::uint32_t version;
  std::memcpy(&version, p + 8, 4);
  if (version != kCacheVersion)
    return fail_load(fmt::format("written by another version (format {}, expected {})", version, kCacheVersion));
  std::uint64_t meta_len, sum;
  std::memcpy(&meta_len, p + 16, 8);
  std::memcpy(&sum, p + 24, 8);
  if (meta_len > n - kHeaderBytes) return fail_load("truncated");
  const auto meta = nlohmann::json::parse(p + kHeaderBytes, p + kHeaderBytes + meta_len, nullptr, false);
  if (!meta.is_object() || !meta.contains("file_size")) return fail_load("corrupt meta data");
  if (meta.at("file_size") != n)
    return fail_load(fmt::format("truncated ({} bytes, expected {})", n, meta.at("file_size").dump()));
  if (checksum(p + kHeaderBytes, n - kHeaderBytes) != sum) return fail_load("corrupt (checksum mismatch)");
  if (const std::string why = key_mismatch(meta.at("key"), key); !why.empty()) return fail_load(why);
  Dataset d;
  d.num_samples = meta.at("num_samples").get<Index>();
  d.sample_shape = Shape{meta.at("num_features").get<Index>()};
  d.task = meta.at("task") == "regression" ? Task::regression : Task::classification;
  d.num_classes = meta.at("num_classes").get<int>();
  d.class_names = meta.at("class_names").get<std::vector<std::string>>();
  d.target_names = meta.at("target_names").get<std::vector<std::string>>();
  const auto N = static_cast<std::size_t>(d.num_samples), F = static_cast<std::size_t>(d.num_features());
  copy_out(*map, meta.at("labels_offset").get<std::size_t>(), meta.at("num_labels").get<std::size_t>(), d.labels);
  const auto T = meta.at("num_targets").get<std::size_t>();
  if (T > 0) {
    d.targets.resize(d.num_samples, static_cast<Index>(T));
    const auto toff = meta.at("targets_offset").get<std::size_t>();
    check_block(*map, toff, N * T * 4);
    std::memcpy(d.targets.data(), p + toff, N * T * 4);
  }
  const bool u8 = meta.at("u8").get<bool>();
  const auto off = meta.at("features_offset").get<std::size_t>();
  check_block(*map, off, N * F * (u8 ? 1 : 4));
  if (data_mmap_enabled()) {
    d.mapped = map;
    d.mapped_offset = off;
    d.mapped_u8 = u8;
  } else if (u8) {
    copy_out(*map, off, N * F, d.x_u8);
  } else {
    copy_out(*map, off, N * F, d.x_f32);
  }
  return Loaded{std::move(d), ""};
}

// The cache file's bytes for `d`, parsed from the CSV of `key`.
std::string cache_bytes(const Dataset& d, const nlohmann::json& key) {
  const auto N = static_cast<std::size_t>(d.num_samples), F = static_cast<std::size_t>(d.num_features());
  const auto T = static_cast<std::size_t>(d.num_targets());
  const std::size_t fbytes = N * F * (d.is_u8() ? 1 : 4);
  nlohmann::json meta = {{"key", key},
                         {"num_samples", N},
                         {"num_features", F},
                         {"u8", d.is_u8()},
                         {"task", to_string(d.task)},
                         {"num_classes", d.num_classes},
                         {"class_names", d.class_names},
                         {"target_names", d.target_names},
                         {"num_labels", d.labels.size()},
                         {"num_targets", T}};
  // The offsets depend on the meta's length: room for them as 20-digit numbers, then the real ones.
  for (const char* k : {"features_offset", "labels_offset", "targets_offset", "file_size"})
    meta[k] = std::uint64_t{99999999999999999};
  const std::size_t meta_len = meta.dump().size() + 16;
  const std::size_t foff = align64(kHeaderBytes + meta_len);
  const std::size_t loff = align64(foff + fbytes);
  const std::size_t toff = align64(loff + d.labels.size() * 4);
  const std::size_t total = toff + N * T * 4;
  meta["features_offset"] = foff;
  meta["labels_offset"] = loff;
  meta["targets_offset"] = toff;
  meta["file_size"] = total;
  std::string m = meta.dump();
  m.resize(meta_len, ' ');
  std::string out(total, '\0');
  auto* o = reinterpret_cast<std::uint8_t*>(out.data());
  std::memcpy(o, kMagic, 8);
  std::memcpy(o + 8, &kCacheVersion, 4);
  const std::uint64_t ml = meta_len;
  std::memcpy(o + 16, &ml, 8);
  std::memcpy(o + kHeaderBytes, m.data(), meta_len);
  if (fbytes) std::memcpy(o + foff, d.is_u8() ? static_cast<const void*>(d.u8_data()) : d.f32_data(), fbytes);
  if (!d.labels.empty()) std::memcpy(o + loff, d.labels.data(), d.labels.size() * 4);
  if (T) std::memcpy(o + toff, d.targets.data(), N * T * 4);
  const std::uint64_t sum = checksum(o + kHeaderBytes, total - kHeaderBytes);
  std::memcpy(o + 24, &sum, 8);
  return out;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

void set_data_cache(bool enabled) { g_cache_enabled = enabled; }
bool data_cache_enabled() { return g_cache_enabled; }

bool data_mmap_enabled() { return env("NETTRAIN_MMAP") != "0"; }

std::string data_cache_dir() {
  if (const std::string d = env("NETTRAIN_CACHE"); !d.empty()) return d;
  if (const std::string x = env("XDG_CACHE_HOME"); !x.empty()) return x + "/nettrain/data";
  if (const std::string h = env("HOME"); !h.empty()) return h + "/.cache/nettrain/data";
  return "/tmp/nettrain-cache/data";
}

Dataset read_csv_cached(const std::string& path, const CsvOptions& opts) {
  std::error_code ec;
  // A pipe or device has no size or mtime to key a cache on: read it as it is.
  const bool regular = std::filesystem::is_regular_file(path, ec);
  if (!g_cache_enabled || !regular) {
    Dataset d = read_csv(path, opts);
    d.cache_note = g_cache_enabled ? "off (not a regular file)" : "off";
    return d;
  }
  std::filesystem::path abs = std::filesystem::weakly_canonical(path, ec);
  if (ec) abs = std::filesystem::absolute(path);
  const nlohmann::json key = csv_key(abs.string(), opts);
  const std::string file =
      (std::filesystem::path(data_cache_dir()) /
       (hex(hash64(reinterpret_cast<const std::uint8_t*>(abs.c_str()), abs.string().size(), 0x5eed) ^
            hash64(reinterpret_cast<const std::uint8_t*>(key["options"].get_ref<const std::string&>().data()),
                   key["options"].get_ref<const std::string&>().size(), 1)) +
        ".ntcache"))
          .string();
  Loaded hit;
  try {
    hit = load_cache(file, key);
  } catch (const nlohmann::json::exception&) {
    hit = fail_load("corrupt meta data");
  } catch (const IoError& e) {
    hit = fail_load(e.what());
  }
  if (hit.data) {
    hit.data->source = path;
    hit.data->cache_note = "hit " + file;
    return std::move(*hit.data);
  }
  Dataset d = read_csv(path, opts);
  try {
    make_directories(data_cache_dir());
    write_file_atomic(file, cache_bytes(d, key), false);
    d.cache_note = (hit.why_not == "none yet" ? "written " : "rebuilt (" + hit.why_not + ") ") + file;
  } catch (const IoError& e) {
    d.cache_note = std::string("not written: ") + e.what();
  } catch (const nlohmann::json::exception& e) {  // a path that is not UTF-8
    d.cache_note = std::string("not written: ") + e.what();
  }
  return d;
}

}  // namespace nettrain
