// The comparison table of several runs; see compare.h.
#include "nettrain/report/compare.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>

#include "nettrain/core/errors.h"
#include "nettrain/report/html.h"

namespace nettrain::report {

namespace {

void flatten_into(const nlohmann::json& j, const std::string& prefix, std::map<std::string, nlohmann::json>& out) {
  const auto child = [&](const std::string& k) { return prefix.empty() ? k : prefix + "." + k; };
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) flatten_into(v, child(k), out);
  } else if (j.is_array() && !j.empty()) {
    for (std::size_t i = 0; i < j.size(); ++i) flatten_into(j[i], child(std::to_string(i)), out);
  } else {
    out[prefix] = j;
  }
}

bool is_index(const std::string& part) {
  return !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
}

CompareCell number(double v, int decimals) {
  if (!std::isfinite(v)) return {"", nullptr};
  return {fixed(v, decimals), v};
}

CompareCell integer(std::optional<std::int64_t> v) {
  if (!v) return {"", nullptr};
  return {std::to_string(*v), *v};
}

double seconds(const RunData& r) {
  if (r.summary.is_object() && r.summary.contains("train_seconds") && r.summary["train_seconds"].is_number())
    return r.summary["train_seconds"].get<double>();
  if (!r.metrics.has_column("seconds")) return std::nan("");
  double s = 0;
  for (const double v : r.metrics.column("seconds")) s += std::isfinite(v) ? v : 0;
  return s;
}

// The row of one run after its config columns.
std::vector<CompareCell> result_cells(const RunData& r) {
  return {{to_string(r.status), to_string(r.status)},
          integer(static_cast<std::int64_t>(r.metrics.rows.size())),
          integer(r.best_epoch()),
          number(r.best_value(), 4),
          number(r.last("train_loss"), 4),
          number(r.test("accuracy"), 4),
          number(r.test("loss"), 4),
          {std::isfinite(seconds(r)) ? seconds_text(seconds(r)) : "",
           std::isfinite(seconds(r)) ? nlohmann::json(seconds(r)) : nlohmann::json(nullptr)},
          {count(r.parameters), r.parameters}};
}

// a < b in the sort order: values first (numbers by value, others as text), missing values last.
bool cell_less(const CompareCell& a, const CompareCell& b, bool descending) {
  if (a.value.is_null() || b.value.is_null()) return !a.value.is_null() && b.value.is_null();
  if (a.value.is_number() && b.value.is_number()) {
    const double x = a.value.get<double>(), y = b.value.get<double>();
    return descending ? x > y : x < y;
  }
  return descending ? a.text > b.text : a.text < b.text;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string folder_name(const std::string& dir) {
  const std::filesystem::path p = std::filesystem::path(dir).lexically_normal();
  const std::string name = p.filename().string();
  return name.empty() ? p.parent_path().filename().string() : name;
}

}  // namespace

std::map<std::string, nlohmann::json> flatten_config(const nlohmann::json& config) {
  std::map<std::string, nlohmann::json> out;
  flatten_into(config, "", out);
  return out;
}

std::vector<std::string> differing_keys(const std::vector<nlohmann::json>& configs) {
  std::vector<std::map<std::string, nlohmann::json>> flat;
  std::set<std::string> all;
  for (const auto& c : configs) {
    flat.push_back(flatten_config(c));
    for (const auto& [k, v] : flat.back()) all.insert(k);
  }
  std::vector<std::string> out;
  for (const auto& key : all) {
    const auto first = flat.front().find(key);
    const bool differs = std::any_of(flat.begin(), flat.end(), [&](const auto& f) {
      const auto it = f.find(key);
      if ((it == f.end()) != (first == flat.front().end())) return true;
      return it != f.end() && it->second != first->second;
    });
    if (differs) out.push_back(key);
  }
  return out;
}

std::vector<std::string> short_key_names(const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  for (const auto& key : keys) {
    std::string last = key;
    std::size_t end = key.size();
    while (end > 0) {
      const std::size_t dot = key.rfind('.', end - 1);
      const std::size_t begin = dot == std::string::npos ? 0 : dot + 1;
      last = key.substr(begin, end - begin);
      if (!is_index(last) || dot == std::string::npos) break;
      end = dot;
    }
    out.push_back(last);
  }
  const std::vector<std::string> first = out;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (std::count(first.begin(), first.end(), first[i]) > 1) out[i] = keys[i];
  return out;
}

std::string value_text(const nlohmann::json& config, const std::string& dotted_path) {
  const auto flat = flatten_config(config);
  const auto it = flat.find(dotted_path);
  if (it == flat.end()) return "";
  return it->second.is_string() ? it->second.get<std::string>() : it->second.dump();
}

CompareTable compare_runs(const std::vector<RunData>& runs, const std::string& sort_key) {
  CompareTable t;
  if (runs.empty()) return t;
  t.monitor = runs.front().monitor();
  std::vector<nlohmann::json> configs;
  for (const auto& r : runs) configs.push_back(r.config);
  t.keys = differing_keys(configs);
  const std::vector<std::string> short_names = short_key_names(t.keys);
  t.columns = {"run"};
  t.columns.insert(t.columns.end(), t.keys.begin(), t.keys.end());
  for (const char* c : {"status", "epochs", "best_epoch"}) t.columns.push_back(c);
  t.columns.push_back("best_" + t.monitor);
  for (const char* c : {"final_train_loss", "test_accuracy", "test_loss", "seconds", "parameters"})
    t.columns.push_back(c);

  std::vector<std::vector<CompareCell>> rows;
  std::vector<std::string> legends;
  for (const auto& r : runs) {
    std::vector<CompareCell> row = {{r.dir, r.dir}};
    std::string legend;
    const auto flat = flatten_config(r.config);
    for (std::size_t k = 0; k < t.keys.size(); ++k) {
      const auto it = flat.find(t.keys[k]);
      const nlohmann::json v = it == flat.end() ? nlohmann::json(nullptr) : it->second;
      const std::string text = it == flat.end() ? "" : v.is_string() ? v.get<std::string>() : v.dump();
      row.push_back({text, v.is_number() || v.is_string() || v.is_null() ? v : nlohmann::json(text)});
      legend += (legend.empty() ? "" : ", ") + short_names[k] + "=" + (text.empty() ? "(none)" : text);
    }
    const auto results = result_cells(r);
    row.insert(row.end(), results.begin(), results.end());
    rows.push_back(std::move(row));
    legends.push_back(legend.empty() ? folder_name(r.dir) : legend);
  }

  const std::string key = sort_key.empty() ? "best_" + t.monitor : sort_key;
  const auto col = std::find(t.columns.begin(), t.columns.end(), key);
  if (col == t.columns.end())
    throw ConfigError("--sort " + key + ": no such column; the columns are " + join(t.columns));
  const auto c = static_cast<std::size_t>(col - t.columns.begin());
  const bool descending = key.find("accuracy") != std::string::npos;
  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return cell_less(rows[a][c], rows[b][c], descending); });
  for (const std::size_t i : order) {
    t.rows.push_back(rows[i]);
    t.legend.push_back(legends[i]);
    t.runs.push_back(&runs[i]);
  }
  return t;
}

std::string CompareTable::to_csv() const {
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + csv_field(columns[i]);
  out += "\n";
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      const auto& v = row[i].value;
      const std::string text = v.is_null() ? "" : v.is_string() ? v.get<std::string>() : v.dump();
      out += (i ? "," : "") + csv_field(text);
    }
    out += "\n";
  }
  return out;
}

nlohmann::json CompareTable::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t r = 0; r < rows.size(); ++r) {
    nlohmann::json o = nlohmann::json::object();
    for (std::size_t i = 0; i < columns.size(); ++i) o[columns[i]] = rows[r][i].value;
    o["legend"] = legend[r];
    list.push_back(std::move(o));
  }
  return {{"monitor", monitor}, {"changed_keys", keys}, {"columns", columns}, {"runs", list}};
}

}  // namespace nettrain::report
