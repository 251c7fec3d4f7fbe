// Data read through a memory map: a raw u8 IDX file is mapped (a .gz one is not), gives the same
// batches, subsets (views of the map) and validation splits as the file read into memory
// (NETTRAIN_MMAP=0), survives the file's
// deletion, and a file truncated while mapped is a DataError at the next batch, not a SIGBUS.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "data_fixtures.h"
#include "nettrain/core/errors.h"
#include "nettrain/data/data.h"

using namespace nettrain;
using namespace test_data;

namespace {

// 50 samples of 3x4 u8 pixels and their labels.
void write_idx_pair(const std::string& images, const std::string& labels) {
  std::string img = idx_header(0x08, {50, 3, 4}), lab = idx_header(0x08, {50});
  for (int i = 0; i < 50; ++i) {
    for (int j = 0; j < 12; ++j) img += static_cast<char>((i * 13 + j * 7) & 255);
    lab += static_cast<char>(i % 5);
  }
  write(images, img);
  write(labels, lab);
}

Matrix batch_of(const Dataset& d, std::vector<Index> rows) {
  Preprocess pp;
  pp.scale = 0.5;
  Batch b;
  d.fill_batch(rows, pp, b);
  return b.x;
}

}  // namespace

TEST_CASE("mapped: a raw u8 IDX file is mapped and reads as the file in memory does") {
  TempDir t;
  write_idx_pair(t.file("i.idx"), t.file("l.idx"));
  write(t.file("i.idx.gz"), gzip(read_bytes(t.file("i.idx"))));
  const Dataset mapped = load_idx(t.file("i.idx"), t.file("l.idx"));
  CHECK(mapped.mapped_file() != nullptr);
  CHECK(mapped.x_u8.empty());
  CHECK(mapped.is_u8());
  CHECK(load_idx(t.file("i.idx.gz"), t.file("l.idx")).mapped_file() == nullptr);  // .gz: in memory
  ::setenv("NETTRAIN_MMAP", "0", 1);
  const Dataset memory = load_idx(t.file("i.idx"), t.file("l.idx"));
  ::unsetenv("NETTRAIN_MMAP");
  CHECK(memory.mapped_file() == nullptr);
  CHECK(memory.x_u8.size() == 600);
  const std::vector<Index> rows = {49, 0, 17, 17, 3};
  CHECK(batch_of(mapped, rows) == batch_of(memory, rows));
  CHECK(mapped.feature(17, 5) == memory.feature(17, 5));
  const Dataset sub = mapped.subset(rows);  // a view of the same map
  CHECK(sub.mapped_file() == mapped.mapped_file());
  CHECK(sub.x_u8.empty());
  const Dataset sub_memory = memory.subset(rows);
  CHECK(sub_memory.x_u8.size() == 60);
  CHECK(batch_of(sub, {0, 1, 2, 3, 4}) == batch_of(sub_memory, {0, 1, 2, 3, 4}));
  CHECK(batch_of(sub.subset(std::vector<Index>{4, 0}), {0, 1}) == batch_of(memory, {3, 49}));
  CHECK(sub.labels == sub_memory.labels);
  CHECK(sub.feature(2, 5) == memory.feature(17, 5));
  auto [tr, va] = split_validation(mapped, 0.2, 7);
  auto [tr_m, va_m] = split_validation(memory, 0.2, 7);
  CHECK(tr.mapped_file() != nullptr);
  CHECK(tr.num_samples == tr_m.num_samples);
  std::vector<Index> all(static_cast<std::size_t>(tr.num_samples));
  for (std::size_t k = 0; k < all.size(); ++k) all[k] = static_cast<Index>(k);
  CHECK(batch_of(tr, all) == batch_of(tr_m, all));
  CHECK(batch_of(va, {0, 1, 2}) == batch_of(va_m, {0, 1, 2}));
  Preprocess a, b;
  a.standardize = b.standardize = true;
  a.fit(mapped);
  b.fit(memory);
  CHECK(a.mean() == b.mean());
  CHECK(a.stddev() == b.stddev());
  a.fit(tr);  // through the view's rows
  b.fit(tr_m);
  CHECK(a.mean() == b.mean());
  CHECK(a.stddev() == b.stddev());
}

TEST_CASE("mapped: a deleted file keeps its data; a truncated one is a DataError at the next batch") {
  TempDir t;
  write_idx_pair(t.file("i.idx"), t.file("l.idx"));
  const Dataset d = load_idx(t.file("i.idx"), t.file("l.idx"));
  const Matrix before = batch_of(d, {1, 2, 48});
  std::filesystem::remove(t.file("i.idx"));
  CHECK(batch_of(d, {1, 2, 48}) == before);  // the mapping outlives the name

  write_idx_pair(t.file("j.idx"), t.file("l.idx"));
  const Dataset e = load_idx(t.file("j.idx"), t.file("l.idx"));
  std::filesystem::resize_file(t.file("j.idx"), 100);
  CHECK(contains(error_of<DataError>([&] { batch_of(e, {0}); }),
                 t.file("j.idx") + ": the data file changed while in use: expected 616 bytes, found 100"));

  // Rewritten in place with the same size (the mapped pages would change under the reader).
  write_idx_pair(t.file("k.idx"), t.file("l.idx"));
  const Dataset g = load_idx(t.file("k.idx"), t.file("l.idx"));
  const auto when = std::filesystem::last_write_time(t.file("k.idx"));
  {
    std::fstream f(t.file("k.idx"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x7f');
  }
  std::filesystem::last_write_time(t.file("k.idx"), when + std::chrono::seconds(1));
  CHECK(contains(error_of<DataError>([&] { batch_of(g, {0}); }),
                 t.file("k.idx") + ": the data file changed while in use: same size, modified since it was opened"));
}
