// libFuzzer target: IDX files (raw or gzip) through read_idx and load_idx.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"
#include "nettrain/data/data.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::scratch_file(data, size, ".idx");
  fuzz::expect_typed_errors([&] {
    nettrain::IdxArray a = nettrain::read_idx(path);
    if (a.count() > 0) (void)a.at(a.count() - 1);
  });
  fuzz::expect_typed_errors([&] { (void)nettrain::load_idx(path, path); });
  return 0;
}
