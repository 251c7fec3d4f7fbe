// The comparison of several runs (nettrain compare): one row per run, with only the config
// values that differ between the runs (dotted paths such as training.optimizer.lr or
// model.layers.0.units), the best epoch and monitored metric, the final train loss, the test
// result, seconds and parameters. As text rows for the terminal, JSON, CSV and an HTML page.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nettrain/report/run_dir.h"

namespace nettrain::report {

// A config as dotted paths to its leaf values (scalars, empty objects and arrays). Arrays are
// indexed: {"a": [{"b": 1}]} gives {"a.0.b": 1}.
std::map<std::string, nlohmann::json> flatten_config(const nlohmann::json& config);

// The paths whose value differs between the configs, or that some configs lack, sorted.
std::vector<std::string> differing_keys(const std::vector<nlohmann::json>& configs);

// Short names for a legend: the last part of each path that is not an array index ("lr" for
// training.optimizer.lr, "units" for model.layers.0.units); the full path where two keys would
// get the same short name.
std::vector<std::string> short_key_names(const std::vector<std::string>& keys);

// A config value as a table cell: strings bare, everything else as compact JSON; "" when absent.
std::string value_text(const nlohmann::json& config, const std::string& dotted_path);

struct CompareCell {
  std::string text;      // as shown ("" when there is no value)
  nlohmann::json value;  // number, string or null, for JSON and sorting
};

struct CompareTable {
  std::string monitor;               // the first run's monitored metric
  std::vector<std::string> keys;     // the differing config paths
  std::vector<std::string> columns;  // "run", keys..., "status", "epochs", "best_epoch", ...
  std::vector<std::vector<CompareCell>> rows;
  std::vector<std::string> legend;   // per row: "lr=0.01, units=128" (or the folder name)
  std::vector<const RunData*> runs;  // per row, in row order

  std::string to_csv() const;
  nlohmann::json to_json() const;
};

// Builds the table. `sort_key` is a column name ("" = best_<monitor>); accuracy columns sort
// best-first (descending), every other column ascending, runs without a value last. Throws
// ConfigError naming the known columns for an unknown key.
CompareTable compare_runs(const std::vector<RunData>& runs, const std::string& sort_key);

// The compare page: the table, sortable by clicking a header, above the runs' curves overlaid,
// one colour per run, the legend naming each run by its differing keys.
std::string compare_html(const CompareTable& table);

}  // namespace nettrain::report
