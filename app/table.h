// Aligned text tables for the terminal: the first row is the header; numbers right-aligned.
#pragma once

#include <string>
#include <vector>

namespace nettrain::app {

class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string str() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string fmt_fixed(double v, int decimals);
std::string fmt_count(long long v);  // 1234567 -> "1,234,567"
std::string fmt_shape(const std::vector<long long>& dims);

}  // namespace nettrain::app
