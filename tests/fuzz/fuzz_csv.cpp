// libFuzzer target: parse_csv under option sets picked by the first input byte.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.h"
#include "nettrain/data/data.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t sel = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  nettrain::CsvOptions opts;
  opts.header = sel % 3 == 0   ? nettrain::CsvHeader::yes
                : sel % 3 == 1 ? nettrain::CsvHeader::no
                               : nettrain::CsvHeader::autodetect;
  opts.delimiter = (sel & 4) ? ';' : ',';
  opts.labeled = (sel & 8) == 0;
  if (sel & 16) opts.task = nettrain::Task::regression;
  if (sel & 32) {
    nettrain::ColumnRef c;
    c.index = 0;
    opts.label_column = c;
  }
  if (sel & 64) {
    nettrain::ColumnRef c;
    c.name = "label";
    opts.label_column = c;
  }
  if (sel & 128) opts.num_classes = 3;
  fuzz::expect_typed_errors([&] { (void)nettrain::parse_csv(text, "fuzz.csv", opts); });
  return 0;
}
