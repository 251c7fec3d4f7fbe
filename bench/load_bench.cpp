// Times the data loaders on Fashion-MNIST: IDX .gz train set, and the same set as CSV (written
// by convert_idx_to_csv if it does not exist). Prints one line per measurement:
//   name seconds MB/s samples
// Usage: nettrain_load_bench IMAGES.gz LABELS.gz OUT.csv
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "nettrain/data/data.h"

using namespace nettrain;

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double mb(const std::string& p) { return static_cast<double>(std::filesystem::file_size(p)) / 1e6; }
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s IMAGES.gz LABELS.gz OUT.csv\n", argv[0]);
    return 2;
  }
  const std::string images = argv[1], labels = argv[2], csv = argv[3];
  try {
    if (!std::filesystem::exists(csv)) {
      const auto t0 = std::chrono::steady_clock::now();
      convert_idx_to_csv(images, labels, csv);
      std::printf("convert_idx_to_csv %.3f %.1f\n", seconds_since(t0), mb(csv) / seconds_since(t0));
    }
    for (int rep = 0; rep < 3; ++rep) {
      auto t0 = std::chrono::steady_clock::now();
      const Dataset a = load_idx(images, labels);
      double s = seconds_since(t0);
      // MB/s of the uncompressed data (what the loader produces).
      const double raw_mb = static_cast<double>(a.x_u8.size() + a.labels.size()) / 1e6;
      std::printf("idx_gz %.3f %.1f %lld\n", s, raw_mb / s, static_cast<long long>(a.num_samples));

      t0 = std::chrono::steady_clock::now();
      CsvOptions o;
      o.label_column = ColumnRef{"label", -1};
      const Dataset b = read_csv(csv, o);
      s = seconds_since(t0);
      std::printf("csv %.3f %.1f %lld %s\n", s, mb(csv) / s, static_cast<long long>(b.num_samples),
                  b.is_u8() ? "u8" : "f32");
      if (b.x_u8 != a.x_u8 || b.labels != a.labels) {
        std::fprintf(stderr, "CSV and IDX data differ\n");
        return 1;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
