// The chunked CSV parse: the same bits, class numbering, errors and line numbers as one pass on
// one thread, for any chunk size and thread count (cuts inside CRLF files, quoted fields with line
// breaks, blank lines, string labels; the earliest error in the file wins).
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "data_fixtures.h"
#include "nettrain/core/errors.h"
#include "nettrain/core/parallel.h"
#include "nettrain/data/data.h"

using namespace nettrain;
using namespace test_data;

namespace {

constexpr std::size_t kOnePiece = std::size_t{1} << 40;  // one chunk: the serial parse

// Every field of two datasets, bit for bit.
void check_same(const Dataset& a, const Dataset& b) {
  REQUIRE(a.num_samples == b.num_samples);
  CHECK(a.sample_shape == b.sample_shape);
  CHECK(a.x_u8 == b.x_u8);
  REQUIRE(a.x_f32.size() == b.x_f32.size());
  // memcmp of zero bytes may still not be given a null pointer (an empty vector's data()).
  if (!a.x_f32.empty()) CHECK(std::memcmp(a.x_f32.data(), b.x_f32.data(), a.x_f32.size() * sizeof(float)) == 0);
  CHECK(a.labels == b.labels);
  CHECK(a.num_classes == b.num_classes);
  CHECK(a.class_names == b.class_names);
  REQUIRE(a.targets.size() == b.targets.size());
  if (a.targets.size() > 0)
    CHECK(std::memcmp(a.targets.data(), b.targets.data(), static_cast<std::size_t>(a.targets.size()) * sizeof(float)) ==
          0);
  CHECK(a.target_names == b.target_names);
}

// The message parse_csv throws, or "" when it parses.
std::string error_or_empty(const std::string& text, const CsvOptions& o, std::size_t chunk) {
  try {
    parse_csv(text, "t.csv", o, chunk);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

// A Fashion-MNIST-like CSV: a header, label first, `rows` rows of 784 pixels 0..255.
std::string pixel_csv(int rows) {
  std::string s = "label";
  for (int j = 0; j < 784; ++j) s += ",p" + std::to_string(j);
  s += '\n';
  std::uint32_t x = 12345;
  for (int r = 0; r < rows; ++r) {
    s += std::to_string(r % 10);
    for (int j = 0; j < 784; ++j) {
      x = x * 1664525u + 1013904223u;
      s += ',' + std::to_string((x >> 24) % 3 == 0 ? 0 : (x >> 16) & 255);
    }
    s += '\n';
  }
  return s;
}

// 100 columns of -1.234567e-03 style values, the label last.
std::string float_csv(int rows) {
  std::string s;
  std::uint32_t x = 777;
  char buf[32];
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < 100; ++j) {
      x = x * 1664525u + 1013904223u;
      const double v = (static_cast<double>(x) / 4294967296.0 - 0.5) * (j % 7 == 0 ? 2e3 : 2e-2);
      std::snprintf(buf, sizeof buf, "%.6e,", v);
      s += buf;
    }
    s += std::to_string(r % 3) + "\r\n";  // CRLF line ends
  }
  return s;
}

}  // namespace

TEST_CASE("csv parallel: large u8 and float files parse to the same bits on 1 and 2 threads") {
  const std::string pixels = pixel_csv(3000);  // ~7 MB: 4 chunks of 2 MiB
  const std::string floats = float_csv(4000);  // ~5.6 MB, CRLF
  REQUIRE(pixels.size() > (std::size_t{3} << 21));
  REQUIRE(floats.size() > (std::size_t{2} << 21));
  CsvOptions o;
  set_num_threads(1);
  const Dataset p1 = parse_csv(pixels, "p.csv", o), f1 = parse_csv(floats, "f.csv", o);
  const Dataset p_serial = parse_csv(pixels, "p.csv", o, kOnePiece);
  set_num_threads(2);
  const Dataset p2 = parse_csv(pixels, "p.csv", o), f2 = parse_csv(floats, "f.csv", o);
  const Dataset f2_small = parse_csv(floats, "f.csv", o, 4096);  // ~1400 chunks
  set_num_threads(1);
  CHECK(p1.is_u8());
  CHECK(p1.num_samples == 3000);
  CHECK(!f1.is_u8());
  CHECK(f1.num_samples == 4000);
  check_same(p1, p_serial);
  check_same(p1, p2);
  check_same(f1, f2);
  check_same(f1, f2_small);
}

TEST_CASE("csv parallel: ragged texts cut at every byte give the serial result") {
  CsvOptions named;
  named.label_column = ColumnRef{"name", -1};
  CsvOptions reg;
  reg.task = Task::regression;
  reg.target_columns = {ColumnRef{"", 0}, ColumnRef{"", -1}};
  const std::vector<std::pair<std::string, CsvOptions>> cases = {
      {"x,y,label\n1,2,0\n3,4,1\n5,6,2", {}},                          // no final newline
      {"x,y,label\r\n1,2,0\r\n\r\n3,4,1\r\n  \r\n5,6,2\r\n\r\n", {}},  // CRLF, blank lines
      {"\xEF\xBB\xBF"
       "1,2.5,0\n3,4,1\n\n\n5,255,2\n6,7,1\n",
       {}},                                                                               // BOM, no header
      {"a,name,b\n1,zebra,2\n3,apple,4\n5,\"mid,dle\",6\n7,zebra,8\n9,kiwi,0\n", named},  // string labels
      {"a,name\n1,\"two\nlines\"\n2,b\n3,\"x\r\ny\"\n4,b\n5,\"\"\"q\"\"\n\"\n", named},   // line breaks in quotes
      {"a,b,c\n1,0.5,-2\n2,1.5e3,-4\r3,7,8\n", reg},                                      // regression, a lone CR
      {"1,2,0\n3,256,1\n4,5,0\n", {}},  // u8 turns float in a later row
  };
  for (const auto& [text, opts] : cases) {
    CAPTURE(text);
    const Dataset ref = parse_csv(text, "t.csv", opts, kOnePiece);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      for (std::size_t chunk = 1; chunk <= text.size() + 1; ++chunk) {
        CAPTURE(chunk);
        check_same(ref, parse_csv(text, "t.csv", opts, chunk));
      }
    }
    set_num_threads(1);
  }
}

TEST_CASE("csv parallel: the earliest error in the file wins, with its serial line and column") {
  // Errors on lines 4 (a bad number), 7 (a missing field) and 9 (an unterminated quote), and a
  // label error (checked after every row is read, as before).
  const std::string text = "x,y,label\n1,2,0\n3,4,1\n5,oops,1\n\r\n6,7,1\n8,0\n9,10,1\n11,12,\"open\n";
  const std::string serial = error_or_empty(text, {}, kOnePiece);
  CHECK(contains(serial, "t.csv:4:3: feature column 1"));
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (std::size_t chunk = 1; chunk <= text.size() + 1; ++chunk) {
      CAPTURE(chunk);
      CHECK(error_or_empty(text, {}, chunk) == serial);
    }
  }
  // Without the first error, the second one is reported at its line.
  std::string later = text;
  later.replace(later.find("oops"), 4, "44");
  set_num_threads(1);
  const std::string second = error_or_empty(later, {}, kOnePiece);
  CHECK(contains(second, "t.csv:7:4: expected 3 fields, found 2"));
  set_num_threads(2);
  for (std::size_t chunk = 1; chunk <= later.size() + 1; ++chunk) CHECK(error_or_empty(later, {}, chunk) == second);
  // A label error is found after the rows are read; its line counts the blank lines before it.
  const std::string labels = "x,y,label\n1,2,0\n\n\r\n3,4,1\n\n5,6,-1\n7,8,2\n";
  set_num_threads(1);
  const std::string label_error = error_or_empty(labels, {}, kOnePiece);
  CHECK(contains(label_error, "t.csv:7:5: label column 2"));
  set_num_threads(2);
  for (std::size_t chunk = 1; chunk <= labels.size() + 1; ++chunk)
    CHECK(error_or_empty(labels, {}, chunk) == label_error);
  set_num_threads(1);
}
