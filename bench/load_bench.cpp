// Times the data loaders on Fashion-MNIST: the IDX .gz train set, the same images unpacked to a
// raw IDX file (RAW.idx, written if it does not exist; memory-mapped, every byte read once), the
// same set as CSV (written by convert_idx_to_csv if it does not exist) parsed on 1 and 2 threads
// and loaded from the data cache (NETTRAIN_CACHE; written by a first read), a float-heavy CSV (100
// columns of -1.234567e-03 style values, written if it does not exist) on 1 and 2 threads. Best
// of 3 each. Prints one line per measurement:
//   name seconds MB/s samples
// Usage: nettrain_load_bench IMAGES.gz LABELS.gz OUT.csv FLOAT.csv RAW.idx
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "nettrain/core/files.h"
#include "nettrain/core/parallel.h"
#include "nettrain/data/data.h"

using namespace nettrain;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double mb(const std::string& p) { return static_cast<double>(std::filesystem::file_size(p)) / 1e6; }

// 100 columns of %.6e values (a few large), an integer label last: ~125 MB.
void write_float_csv(const std::string& path) {
  std::string s;
  s.reserve(130'000'000);
  std::uint32_t x = 777;
  char buf[32];
  for (int r = 0; r < 90'000; ++r) {
    for (int j = 0; j < 100; ++j) {
      x = x * 1664525u + 1013904223u;
      const double v = (static_cast<double>(x) / 4294967296.0 - 0.5) * (j % 7 == 0 ? 2e3 : 2e-2);
      std::snprintf(buf, sizeof buf, "%.6e,", v);
      s += buf;
    }
    s += std::to_string(r % 10) + "\n";
  }
  write_file_atomic(path, s, false);
}

// Best of three parses of `csv` on `threads` threads.
void time_csv(const char* name, const std::string& csv, int threads) {
  set_num_threads(threads);
  double best = 1e30;
  Dataset d;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    d = read_csv(csv, CsvOptions{});
    best = std::min(best, seconds_since(t0));
  }
  std::printf("%s %.3f %.1f %lld %s\n", name, best, mb(csv) / best, static_cast<long long>(d.num_samples),
              d.is_u8() ? "u8" : "f32");
  set_num_threads(1);
}

// Reads every feature once (a mapped file's pages are read here, not at load).
double touch(const Dataset& d) {
  const auto n = static_cast<std::size_t>(d.num_samples * d.num_features());
  double sum = 0;
  if (const std::uint8_t* u8 = d.u8_data()) {
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < n; ++i) s += u8[i];
    sum = static_cast<double>(s);
  } else {
    const float* f = d.f32_data();
    for (std::size_t i = 0; i < n; ++i) sum += f[i];
  }
  return sum;
}

// Best of three loads of `load()` (which returns a Dataset), its features read once.
template <typename F>
void time_load(const char* name, double megabytes, F&& load) {
  double best = 1e30, check = 0;
  Index n = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    const Dataset d = load();
    check += touch(d);
    best = std::min(best, seconds_since(t0));
    n = d.num_samples;
  }
  std::printf("%s %.3f %.1f %lld (checksum %.0f)\n", name, best, megabytes / best, static_cast<long long>(n), check);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s IMAGES.gz LABELS.gz OUT.csv FLOAT.csv RAW.idx\n", argv[0]);
    return 2;
  }
  const std::string images = argv[1], labels = argv[2], csv = argv[3], fcsv = argv[4], raw = argv[5];
  try {
    if (!std::filesystem::exists(csv)) convert_idx_to_csv(images, labels, csv);
    if (!std::filesystem::exists(fcsv)) write_float_csv(fcsv);
    if (!std::filesystem::exists(raw)) write_idx(raw, read_idx(images));
    double best = 1e30;
    Dataset a;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      a = load_idx(images, labels);
      best = std::min(best, seconds_since(t0));
    }
    // MB/s of the uncompressed data (what the loader produces).
    const double raw_mb = static_cast<double>(a.x_u8.size() + a.labels.size()) / 1e6;
    std::printf("idx_gz %.3f %.1f %lld\n", best, raw_mb / best, static_cast<long long>(a.num_samples));
    time_load("idx_raw_mmap", mb(raw), [&] { return load_idx(raw, labels); });
    time_csv("csv_1t", csv, 1);
    time_csv("csv_2t", csv, 2);
    time_csv("float_csv_1t", fcsv, 1);
    time_csv("float_csv_2t", fcsv, 2);
    set_num_threads(2);
    read_csv_cached(csv, CsvOptions{});  // writes the cache when it is not there
    time_load("csv_cache", mb(csv), [&] { return read_csv_cached(csv, CsvOptions{}); });
    set_num_threads(1);
    CsvOptions o;
    o.label_column = ColumnRef{"label", -1};
    const Dataset b = read_csv(csv, o);
    if (b.x_u8 != a.x_u8 || b.labels != a.labels) {
      std::fprintf(stderr, "CSV and IDX data differ\n");
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
