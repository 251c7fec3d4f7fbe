// Which CSV column is the label when the options do not say: a header column named `label`
// (what `convert` writes, first), else the fallback a saved model gives, else the last column.
#include <doctest/doctest.h>

#include "nettrain/data/data.h"

using namespace nettrain;

TEST_CASE("csv: a header column named label is the label by default") {
  const Dataset d = parse_csv("label,x0,x1\n3,1,2\n0,5,6\n", "t.csv", CsvOptions{});
  CHECK(d.labels == std::vector<std::int32_t>{3, 0});
  CHECK(d.num_features() == 2);
  CHECK(d.feature(0, 0) == 1.0f);
  CHECK(d.feature(1, 1) == 6.0f);
  // No column named label: the last column, as before.
  const Dataset last = parse_csv("a,b,c\n3,1,2\n0,5,1\n", "t.csv", CsvOptions{});
  CHECK(last.labels == std::vector<std::int32_t>{2, 1});
  // An explicit label column wins over the name.
  CsvOptions explicit_col;
  explicit_col.label_column = ColumnRef{"", 2};
  CHECK(parse_csv("label,x0,x1\n3,1,2\n0,5,1\n", "t.csv", explicit_col).labels == std::vector<std::int32_t>{2, 1});
  // The fallback (a saved model's label column) is used only when no column is named label.
  CsvOptions fallback;
  fallback.fallback_label_column = ColumnRef{"", 0};
  CHECK(parse_csv("a,b,c\n3,1,2\n0,5,1\n", "t.csv", fallback).labels == std::vector<std::int32_t>{3, 0});
  CHECK(parse_csv("x0,label,x1\n3,1,2\n0,0,1\n", "t.csv", fallback).labels == std::vector<std::int32_t>{1, 0});
}
