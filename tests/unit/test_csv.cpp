// CSV reader: dialects (quotes, CRLF, BOM, no final newline, header detection), string and
// integer labels, regression targets, and every error with file:line:column.
#include <doctest/doctest.h>

#include "data_fixtures.h"
#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"

using namespace nettrain;
using namespace test_data;

namespace {

Dataset csv(const std::string& text, CsvOptions o = {}) { return parse_csv(text, "t.csv", o); }
std::string csv_error(const std::string& text, CsvOptions o = {}) {
  return error_of<DataError>([&] { parse_csv(text, "t.csv", o); });
}
CsvOptions label(const std::string& name) {
  CsvOptions o;
  o.label_column = ColumnRef{name, -1};
  return o;
}

}  // namespace

TEST_CASE("csv: header, label by name, by index and default last; u8 detection") {
  const std::string text = "a,label,b\n1,0,2\n3,2,4\n";
  const Dataset d = csv(text, label("label"));
  CHECK(d.num_samples == 2);
  CHECK(d.num_features() == 2);
  CHECK(d.labels == std::vector<std::int32_t>{0, 2});
  CHECK(d.num_classes == 3);
  CHECK(d.is_u8());
  CHECK(d.feature(1, 1) == 4.0f);
  CsvOptions by_index;
  by_index.label_column = ColumnRef{"", 1};
  CHECK(csv(text, by_index).labels == d.labels);
  // Default: the last column is the label.
  const Dataset last = csv("1,2,1\n3.5,4,0\n");
  CHECK(last.labels == std::vector<std::int32_t>{1, 0});
  CHECK(!last.is_u8());
  CHECK(last.feature(1, 0) == 3.5f);
  CHECK(csv("1,256,1\n").x_f32.size() == 2);  // 256 does not fit in u8
  CHECK(csv("1,-1,1\n").x_f32.size() == 2);
}

TEST_CASE("csv: quoted fields, doubled quotes, delimiter inside quotes, other delimiters") {
  const Dataset d = csv("x,y,name\n\"1.5\",2,\"a,b\"\n3,\"4\",\"say \"\"hi\"\"\"\n", label("name"));
  CHECK(d.feature(0, 0) == 1.5f);
  CHECK(d.feature(1, 1) == 4.0f);
  CHECK(d.class_names == std::vector<std::string>{"a,b", "say \"hi\""});
  CHECK(d.labels == std::vector<std::int32_t>{0, 1});
  CsvOptions semi;
  semi.delimiter = ';';
  const Dataset s = csv("1.5;2;0\n3;4;1\n", semi);
  CHECK(s.feature(0, 0) == 1.5f);
  CHECK(s.labels == std::vector<std::int32_t>{0, 1});
  semi.header = CsvHeader::no;
  CHECK(contains(csv_error("1,5;2;0\n", semi), "t.csv:1:1: feature column 0: expected a number, found \"1,5\""));
}

TEST_CASE("csv: csv_row_fields splits one row as parse_csv does") {
  CHECK(csv_row_fields("a, \"b,c\" ,\"say \"\"hi\"\"\"\r\nx,y\n", ',', "t.csv") ==
        std::vector<std::string>{"a", "b,c", "say \"hi\""});
  CHECK(csv_row_fields("\xEF\xBB\xBFp;q", ';', "t.csv") == std::vector<std::string>{"p", "q"});
  CHECK(csv_row_fields("", ',', "t.csv") == std::vector<std::string>{""});
  CHECK(contains(error_of<DataError>([] { csv_row_fields("a,\"b", ',', "t.csv"); }),
                 "t.csv:1:3: unterminated quoted field"));
}

TEST_CASE("csv: CRLF, BOM, blank lines and a missing final newline give the same data") {
  const Dataset ref = csv("x,y,label\n1,2,0\n3,4,1\n");
  for (const std::string& text :
       {std::string("x,y,label\r\n1,2,0\r\n3,4,1\r\n"), std::string("\xEF\xBB\xBFx,y,label\n1,2,0\n3,4,1\n"),
        std::string("x,y,label\n1,2,0\n3,4,1"), std::string("x,y,label\r\n1,2,0\r\n\r\n3,4,1"),
        std::string("\xEF\xBB\xBFx,y,label\r\n1,2,0\r\n3,4,1")}) {
    const Dataset d = csv(text);
    CHECK(d.num_samples == 2);
    CHECK(d.x_u8 == ref.x_u8);
    CHECK(d.labels == ref.labels);
  }
}

TEST_CASE("csv: header auto-detection") {
  CHECK(csv("x,y,label\n1,2,0\n").num_samples == 1);        // header
  CHECK(csv("1,2,0\n3,4,1\n").num_samples == 2);            // no header
  const Dataset s = csv("1,2,red\n3,4,blue\n5,6,green\n");  // string labels are not a header
  CHECK(s.num_samples == 3);
  CHECK(s.class_names == std::vector<std::string>{"blue", "green", "red"});
  CHECK(s.labels == std::vector<std::int32_t>{2, 0, 1});
  CsvOptions yes;
  yes.header = CsvHeader::yes;
  CHECK(csv("1,2,0\n3,4,1\n", yes).num_samples == 1);
  CsvOptions no;
  no.header = CsvHeader::no;
  CHECK(contains(csv_error("x,y,label\n1,2,0\n", no), "t.csv:1:1: feature column 0: expected a number, found \"x\""));
}

TEST_CASE("csv: regression with two targets by name, and by default the last column") {
  CsvOptions o;
  o.task = Task::regression;
  o.target_columns = {ColumnRef{"y2", -1}, ColumnRef{"y1", -1}};
  const Dataset d = csv("x,y1,y2\n1,0.5,-2\n2,1.5,-4\n", o);
  CHECK(d.task == Task::regression);
  CHECK(d.num_features() == 1);
  REQUIRE(d.num_targets() == 2);
  CHECK(d.targets(0, 0) == -2.0f);
  CHECK(d.targets(0, 1) == 0.5f);
  CHECK(d.targets(1, 1) == 1.5f);
  CHECK(d.target_names == std::vector<std::string>{"y2", "y1"});
  CsvOptions last;
  last.task = Task::regression;
  const Dataset e = csv("0.1,0.2\n0.3,0.4\n", last);
  CHECK(e.num_targets() == 1);
  CHECK(e.targets(1, 0) == 0.4f);
  CHECK(contains(csv_error("x,y\n1,abc\n", last),
                 "t.csv:2:3: target column 1 (\"y\"): expected a number, found \"abc\""));
}

TEST_CASE("csv: errors name file:line:column and expected vs found") {
  SUBCASE("ragged rows") {
    CHECK(contains(csv_error("a,b,c\n1,2,0\n1,2\n"), "t.csv:3:4: expected 3 fields, found 2"));
    CHECK(contains(csv_error("a,b,c\n1,2,0\n1,2,3,4\n"), "t.csv:3:6: expected 3 fields, found 4"));
  }
  SUBCASE("non-numeric and empty cells") {
    CHECK(contains(csv_error("a,b,c\n1,2,0\n1,x7,0\n"),
                   "t.csv:3:3: feature column 1 (\"b\"): expected a number, found \"x7\""));
    CHECK(contains(csv_error("a,b,c\n1,,0\n"),
                   "t.csv:2:3: feature column 1 (\"b\"): expected a number, found an empty field"));
  }
  SUBCASE("NaN and Inf in a feature") {
    CHECK(contains(csv_error("a,b,c\n1,2,0\nnan,2,0\n"),
                   "t.csv:3:1: feature column 0 (\"a\"): expected a finite number, found \"nan\""));
    CHECK(contains(csv_error("a,b,c\n1,-inf,0\n"),
                   "t.csv:2:3: feature column 1 (\"b\"): expected a finite number, found \"-inf\""));
    CHECK(contains(csv_error("a,b,c\n1,1e40,0\n"), "expected a finite number, found \"1e40\""));
  }
  SUBCASE("fractional and negative class labels") {
    CHECK(contains(csv_error("a,label\n1,0\n2,1.5\n"),
                   "t.csv:3:3: label column 1 (\"label\"): expected an integer class index, found \"1.5\""));
    CHECK(contains(csv_error("a,label\n1,0\n2,-1\n"),
                   "t.csv:3:3: label column 1 (\"label\"): expected a class index >= 0, found \"-1\""));
    CsvOptions k;
    k.num_classes = 2;
    CHECK(
        contains(csv_error("1,0\n2,2\n", k), "t.csv:2:3: label column 1: expected a class index in 0..1, found \"2\""));
  }
  SUBCASE("empty file, blank file, header without rows") {
    CHECK(contains(csv_error(""), "t.csv:1:1: empty file"));
    CHECK(contains(csv_error("\n\r\n  \n"), "t.csv:1:1: empty file"));
    CHECK(contains(csv_error("a,b,label\n"), "t.csv:2:1: a header but no data rows"));
  }
  SUBCASE("label column that does not exist") {
    const auto msg = csv_error("x0,x1,label\n1,2,0\n", label("lable"));
    CHECK(contains(msg, "t.csv:1:1: label column \"lable\" not found in the header (did you mean \"label\"?)"));
    CHECK(contains(msg, "expected one of: x0, x1, label"));
    CsvOptions idx;
    idx.label_column = ColumnRef{"", 5};
    CHECK(contains(csv_error("1,2,0\n", idx), "label column index 5 is out of range: expected -3..2"));
    CHECK(contains(csv_error("1,2,0\n", label("label")), "has no header row"));
  }
  SUBCASE("unterminated quote, junk after a quote") {
    CHECK(contains(csv_error("a,b\n1,\"0\n"), "t.csv:2:3: unterminated quoted field"));
    CHECK(contains(csv_error("a,b\n\"1\"x,0\n"),
                   "t.csv:2:4: expected a delimiter or line end after a closing quote, found 'x'"));
  }
  SUBCASE("a missing file is an IoError naming it") {
    CHECK(contains(error_of<IoError>([] { read_csv("/nonexistent/x.csv", {}); }), "/nonexistent/x.csv"));
  }
}

TEST_CASE("csv: read_csv reads a file; unlabeled reads every column as a feature") {
  TempDir t;
  const std::string f = write(t.file("u.csv"), "1,2,3\n4,5,6\n");
  CsvOptions o;
  o.labeled = false;
  const Dataset d = read_csv(f, o);
  CHECK(d.num_features() == 3);
  CHECK(!d.has_labels());
  CHECK(d.source == f);
  CHECK(contains(error_of<DataError>([&] { read_csv(write(t.file("bad.csv"), "1,2\n3\n"), {}); }),
                 t.file("bad.csv") + ":2:2"));
}
