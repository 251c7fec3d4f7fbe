// IDX reader: the six element types, raw vs gzip, and every malformed-file error.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

#include "data_fixtures.h"
#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"

using namespace nettrain;
using namespace test_data;

namespace {

std::string be(const void* p, std::size_t n) {
  std::string s(static_cast<const char*>(p), n);
  return std::string(s.rbegin(), s.rend());  // host (little-endian) -> big-endian
}
template <typename T>
std::string be_values(std::initializer_list<T> vals) {
  std::string s;
  for (T v : vals) s += be(&v, sizeof v);
  return s;
}

}  // namespace

TEST_CASE("idx: all six element types read back as the values written (big-endian)") {
  TempDir t;
  const std::vector<std::uint32_t> dims{2, 3};
  {
    const auto d =
        load_idx(write(t.file("u8"), idx_header(0x08, dims) + std::string("\x00\x01\x7f\x80\xfe\xff", 6)), "");
    REQUIRE(d.is_u8());
    CHECK(d.num_samples == 2);
    CHECK(d.sample_shape == Shape{3});
    CHECK(d.feature(0, 2) == 127.0f);
    CHECK(d.feature(1, 2) == 255.0f);
  }
  {
    const auto d =
        load_idx(write(t.file("i8"), idx_header(0x09, dims) + std::string("\x00\x01\x7f\x80\xfe\xff", 6)), "");
    CHECK(!d.is_u8());
    CHECK(d.feature(0, 2) == 127.0f);
    CHECK(d.feature(1, 0) == -128.0f);
    CHECK(d.feature(1, 2) == -1.0f);
  }
  {
    const auto d = load_idx(
        write(t.file("i16"), idx_header(0x0B, dims) + be_values<std::int16_t>({-300, 1000, 0, 1, -1, 32767})), "");
    CHECK(d.feature(0, 0) == -300.0f);
    CHECK(d.feature(0, 1) == 1000.0f);
    CHECK(d.feature(1, 2) == 32767.0f);
  }
  {
    const auto d = load_idx(
        write(t.file("i32"), idx_header(0x0C, dims) + be_values<std::int32_t>({70000, -5, 0, 1, 2, -16777216})), "");
    CHECK(d.feature(0, 0) == 70000.0f);
    CHECK(d.feature(0, 1) == -5.0f);
    CHECK(d.feature(1, 2) == -16777216.0f);
  }
  {
    const auto d =
        load_idx(write(t.file("f32"), idx_header(0x0D, dims) + be_values<float>({1.5f, -2.25f, 0, 1e-3f, 3, 4})), "");
    CHECK(d.feature(0, 0) == 1.5f);
    CHECK(d.feature(0, 1) == -2.25f);
    CHECK(d.feature(1, 0) == 1e-3f);
  }
  {
    const auto d =
        load_idx(write(t.file("f64"), idx_header(0x0E, dims) + be_values<double>({0.1, -1e10, 0, 0, 0, 7})), "");
    CHECK(d.feature(0, 0) == 0.1f);
    CHECK(d.feature(0, 1) == -1e10f);
    CHECK(d.feature(1, 2) == 7.0f);
  }
}

TEST_CASE("idx: gzip (by magic, not name) and raw give identical data; 3-D dims give the sample shape") {
  TempDir t;
  std::string raw = idx_header(0x08, {4, 2, 3});
  for (int i = 0; i < 24; ++i) raw += static_cast<char>(i * 10);
  write(t.file("a.idx"), raw);
  write(t.file("a.bin"), gzip(raw));  // no .gz in the name
  const IdxArray a = read_idx(t.file("a.idx")), b = read_idx(t.file("a.bin"));
  CHECK(a.data == b.data);
  CHECK(a.dims == b.dims);
  CHECK(read_idx_header(t.file("a.bin")).gzip);
  CHECK(!read_idx_header(t.file("a.idx")).gzip);
  const Dataset d = load_idx(t.file("a.bin"), "");
  CHECK(d.sample_shape == Shape{2, 3});
  CHECK(d.num_features() == 6);
  CHECK(d.feature(3, 5) == 230.0f);
}

TEST_CASE("idx: labels of any integer type, count must match, must be integers and >= 0") {
  TempDir t;
  const std::string img = write(t.file("img"), idx_header(0x08, {3, 2}) + std::string(6, '\x01'));
  SUBCASE("i16 labels") {
    const auto d = load_idx(img, write(t.file("lab"), idx_header(0x0B, {3}) + be_values<std::int16_t>({0, 4, 2})));
    CHECK(d.labels == std::vector<std::int32_t>{0, 4, 2});
    CHECK(d.num_classes == 5);
  }
  SUBCASE("count mismatch") {
    const std::string lab = write(t.file("lab4"), idx_header(0x08, {4}) + std::string(4, '\x00'));
    const auto msg = error_of<DataError>([&] { load_idx(img, lab); });
    CHECK(contains(msg, lab));
    CHECK(contains(msg, "expected 3 labels"));
    CHECK(contains(msg, "found 4"));
  }
  SUBCASE("float labels") {
    const std::string lab = write(t.file("labf"), idx_header(0x0D, {3}) + be_values<float>({0, 1, 2}));
    const auto msg = error_of<DataError>([&] { load_idx(img, lab); });
    CHECK(contains(msg, "byte 2"));
    CHECK(contains(msg, "found f32"));
  }
  SUBCASE("negative label names its byte offset") {
    const std::string lab = write(t.file("labn"), idx_header(0x09, {3}) + std::string("\x00\x01\xff", 3));
    const auto msg = error_of<DataError>([&] { load_idx(img, lab); });
    CHECK(contains(msg, lab + ": byte 10"));
    CHECK(contains(msg, "found -1"));
  }
  SUBCASE("check_labels names the first bad sample") {
    const auto d = load_idx(img, write(t.file("lab"), idx_header(0x08, {3}) + std::string("\x00\x07\x09", 3)));
    const auto msg = error_of<DataError>([&] { d.check_labels(5); });
    CHECK(contains(msg, "sample 1"));
    CHECK(contains(msg, "label 7"));
    CHECK(contains(msg, "expected 0..4"));
  }
}

TEST_CASE("idx: convert checks labels as load_idx does (one rule: idx_labels)") {
  TempDir t;
  const std::string img = write(t.file("img"), idx_header(0x08, {3, 2}) + std::string(6, '\x01'));
  const std::string out = t.file("out.csv");
  SUBCASE("a negative label names its byte offset, and nothing is written") {
    const std::string lab = write(t.file("labn"), idx_header(0x09, {3}) + std::string("\x00\x01\xff", 3));
    const auto via_load = error_of<DataError>([&] { load_idx(img, lab); });
    const auto via_convert = error_of<DataError>([&] { convert_idx_to_csv(img, lab, out); });
    CHECK(contains(via_convert, lab + ": byte 10"));
    CHECK(via_convert == via_load);
    CHECK_FALSE(std::filesystem::exists(out));
  }
  SUBCASE("labels dims [N, 2] are not labels") {
    const std::string lab = write(t.file("lab2"), idx_header(0x08, {3, 2}) + std::string(6, '\x00'));
    CHECK(contains(error_of<DataError>([&] { convert_idx_to_csv(img, lab, out); }), "expected labels dims [N]"));
  }
  SUBCASE("good labels: the CSV's first column") {
    const std::string lab = write(t.file("lab"), idx_header(0x08, {3}) + std::string("\x02\x00\x01", 3));
    convert_idx_to_csv(img, lab, out);
    CsvOptions o;
    o.header = CsvHeader::yes;
    o.label_column = ColumnRef{"label", -1};
    const Dataset d = read_csv(out, o);
    CHECK(d.labels == std::vector<std::int32_t>{2, 0, 1});
  }
}

TEST_CASE("idx: malformed files are DataErrors with the file and byte offset") {
  TempDir t;
  std::string raw = idx_header(0x08, {10, 100});
  for (int i = 0; i < 1000; ++i) raw += static_cast<char>((i * 7919) % 251);  // poorly compressible
  SUBCASE("truncated raw") {
    const std::string f = write(t.file("trunc.idx"), raw.substr(0, raw.size() - 3));
    const auto msg = error_of<DataError>([&] { read_idx(f); });
    CHECK(contains(msg, f + ": byte 1009"));
    CHECK(contains(msg, "need 1000 data bytes"));
    CHECK(contains(msg, "holds 997"));
  }
  SUBCASE("trailing bytes in a raw file") {
    const std::string f = write(t.file("long.idx"), raw + "xx");
    const auto msg = error_of<DataError>([&] { read_idx(f); });
    CHECK(contains(msg, f + ": byte 1012"));
    CHECK(contains(msg, "found 2 more bytes"));
  }
  SUBCASE("truncated gzip: inside the data") {
    const std::string gz = gzip(raw);
    const std::string f = write(t.file("trunc.gz"), gz.substr(0, gz.size() / 2));
    const auto msg = error_of<DataError>([&] { read_idx(f); });
    CHECK(contains(msg, f));
    CHECK(contains(msg, "truncated gzip"));
    CHECK(contains(msg, "need 1000 data bytes"));
  }
  SUBCASE("truncated gzip: only the trailer is missing") {
    const std::string gz = gzip(raw);
    const std::string f = write(t.file("trail.gz"), gz.substr(0, gz.size() - 4));
    const auto msg = error_of<DataError>([&] { read_idx(f); });
    CHECK(contains(msg, f));
    CHECK(contains(msg, "truncated gzip"));
  }
  SUBCASE("corrupt gzip") {
    std::string gz = gzip(raw);
    for (std::size_t i = 20; i < 60; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
    const std::string f = write(t.file("bad.gz"), gz);
    const auto msg = error_of<DataError>([&] { read_idx(f); });
    CHECK(contains(msg, f + ": corrupt gzip data"));
  }
  SUBCASE("bad magic") {
    const std::string f = write(t.file("pgm"), "P5\n28 28\n255\n");
    const auto msg = error_of<DataError>([&] { read_idx(f); });
    CHECK(contains(msg, f + ": byte 0: bad IDX magic"));
    CHECK(contains(msg, "found 50 35 0a 32"));
  }
  SUBCASE("unknown element type") {
    const std::string f = write(t.file("t07"), idx_header(0x07, {1}) + "x");
    const auto msg = error_of<DataError>([&] { read_idx(f); });
    CHECK(contains(msg, f + ": byte 2: unknown IDX element type 0x07"));
  }
  SUBCASE("empty file") {
    const std::string f = write(t.file("empty"), "");
    CHECK(contains(error_of<DataError>([&] { read_idx(f); }), "found an empty file"));
  }
  SUBCASE("dims product overflows 64 bits") {
    const std::string f = write(t.file("ovf"), idx_header(0x0E, {0x80000000u, 0x80000000u, 0x80000000u}));
    const auto msg = error_of<DataError>([&] { read_idx(f); });
    CHECK(contains(msg, f + ": bytes 4..16"));
    CHECK(contains(msg, "[2147483648, 2147483648, 2147483648]"));
    CHECK(contains(msg, "overflow"));
  }
  SUBCASE("dims 2^31 x 2^31: raw needs 2^62 bytes, nothing is allocated") {
    const std::string f = write(t.file("huge"), idx_header(0x08, {0x80000000u, 0x80000000u}) + "abc");
    const auto msg = error_of<DataError>([&] { read_idx(f); });
    CHECK(contains(msg, "need 4611686018427387904 data bytes"));
    CHECK(contains(msg, "holds 3"));
  }
  SUBCASE("dims 2^31 x 2^31 in gzip: refused before inflating") {
    const std::string f = write(t.file("huge.gz"), gzip(idx_header(0x08, {0x80000000u, 0x80000000u}) + "abc"));
    const auto msg = error_of<DataError>([&] { read_idx(f); });
    CHECK(contains(msg, f + ": bytes 4..12 (uncompressed)"));
    CHECK(contains(msg, "holds at most"));
  }
  SUBCASE("truncated header") {
    const std::string f = write(t.file("hdr"), idx_header(0x08, {5, 5}).substr(0, 9));
    const auto msg = error_of<DataError>([&] { read_idx(f); });
    CHECK(contains(msg, f + ": byte 9: truncated header"));
  }
  SUBCASE("missing file is an IoError") {
    CHECK(contains(error_of<IoError>([&] { read_idx(t.file("nope")); }), "nope"));
  }
}

TEST_CASE("idx: write_idx round-trips every type, raw and gzip") {
  TempDir t;
  for (IdxType ty : {IdxType::u8, IdxType::i8, IdxType::i16, IdxType::i32, IdxType::f32, IdxType::f64}) {
    IdxArray a;
    a.type = ty;
    a.dims = {3, 2};
    a.data.resize(6 * idx_type_size(ty));
    for (std::size_t i = 0; i < a.data.size(); ++i) a.data[i] = static_cast<std::uint8_t>(i * 37 + 1);
    for (bool gz : {false, true}) {
      std::string name = "w";  // built in steps: GCC 12 warns (-Wrestrict) on a + b + c here
      name += idx_type_name(ty);
      if (gz) name += ".gz";
      const std::string f = t.file(name);
      write_idx(f, a, gz);
      const IdxArray b = read_idx(f);
      CHECK(b.type == ty);
      CHECK(b.dims == a.dims);
      CHECK(b.data == a.data);
      CHECK(read_idx_header(f).gzip == gz);
    }
  }
}
