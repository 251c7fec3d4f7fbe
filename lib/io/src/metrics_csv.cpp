// Reader for a run's metrics.csv (SPEC §4): a header line, then one numeric row per epoch. Empty
// cells are NaN. Errors name the file and the 1-based line.
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string_view>

#include "nettrain/core/errors.h"
#include "nettrain/io/plot.h"

namespace nettrain {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    out.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

}  // namespace

bool MetricsTable::has_column(const std::string& name) const {
  for (const auto& c : columns)
    if (c == name) return true;
  return false;
}

std::vector<double> MetricsTable::column(const std::string& name) const {
  for (std::size_t j = 0; j < columns.size(); ++j) {
    if (columns[j] != name) continue;
    std::vector<double> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(r[j]);
    return out;
  }
  std::string known;
  for (const auto& c : columns) known += (known.empty() ? "" : ", ") + c;
  throw DataError("metrics table has no column '" + name + "' (columns: " + known + ")");
}

MetricsTable read_metrics_csv(const std::string& path) {
  std::error_code fs_ec;
  if (std::filesystem::is_directory(path, fs_ec)) throw IoError(path + ": is a directory, expected a metrics.csv file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open for reading");

  MetricsTable table;
  std::string line;
  std::size_t line_no = 0;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const auto fields = split_fields(line);
    const std::string where = path + ":" + std::to_string(line_no);
    if (!have_header) {
      std::set<std::string_view> seen;
      for (std::size_t j = 0; j < fields.size(); ++j) {
        if (fields[j].empty())
          throw DataError(where + ": header field " + std::to_string(j + 1) + " is empty, expected a column name");
        if (!seen.insert(fields[j]).second)
          throw DataError(where + ": duplicate column name '" + std::string(fields[j]) + "'");
        table.columns.emplace_back(fields[j]);
      }
      have_header = true;
      continue;
    }
    if (fields.size() != table.columns.size())
      throw DataError(where + ": expected " + std::to_string(table.columns.size()) +
                      " fields (as in the header), got " + std::to_string(fields.size()));
    std::vector<double> row;
    row.reserve(fields.size());
    for (std::size_t j = 0; j < fields.size(); ++j) {
      const std::string_view f = fields[j];
      if (f.empty()) {
        row.push_back(std::numeric_limits<double>::quiet_NaN());
        continue;
      }
      double v = 0.0;
      // from_chars rejects a leading '+', which some writers emit.
      const std::string_view digits = f.front() == '+' ? f.substr(1) : f;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec != std::errc() || end != digits.data() + digits.size())
        throw DataError(where + ": column '" + table.columns[j] + "': expected a number, got '" + std::string(f) + "'");
      row.push_back(v);
    }
    table.rows.push_back(std::move(row));
  }
  if (in.bad()) throw IoError(path + ": read error");
  if (!have_header) throw DataError(path + ":1: empty file, expected a header line");
  return table;
}

}  // namespace nettrain
