#include "table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace nettrain::app {

namespace {
bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) {
                       return (c >= '0' && c <= '9') || c == '.' || c == ',' || c == '-' || c == '%' || c == 'e';
                     }) &&
         (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'));
}
}  // namespace

std::string Table::str() const {
  std::vector<std::size_t> width;
  for (const auto& r : rows_)
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], r[c].size());
    }
  std::string out;
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const auto& r = rows_[i];
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      const std::string pad(width[c] - r[c].size(), ' ');
      const bool right = i > 0 && looks_numeric(r[c]);
      line += (c ? "  " : "") + (right ? pad + r[c] : r[c] + (c + 1 < r.size() ? pad : ""));
    }
    out += line + "\n";
  }
  return out;
}

std::string fmt_fixed(double v, int decimals) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string fmt_count(long long v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

std::string fmt_shape(const std::vector<long long>& dims) { return fmt::format("[{}]", fmt::join(dims, ", ")); }

}  // namespace nettrain::app
