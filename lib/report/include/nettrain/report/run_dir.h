// Reading a run directory back (SPEC §4) for report and compare: config.json, metrics.csv,
// steps.csv, summary.json, and the layer table rebuilt from the resolved config.
//
// A run that is still going (or was stopped and not resumed) has no summary.json yet; it is read
// all the same and its status says so. A folder that is not a readable run throws IoError (exit 5)
// whose message names the folder or the damaged file and its position: no config.json or
// metrics.csv, a metrics.csv row cut short, a summary.json that is not JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nettrain/io/plot.h"
#include "nettrain/layers/network.h"

namespace nettrain::report {

enum class RunStatus { finished, stopped_early, unfinished };
std::string to_string(RunStatus s);  // "finished", "stopped early", "unfinished"

struct RunData {
  std::string dir;
  std::string name;              // config "name"
  nlohmann::json config;         // the resolved config.json
  nlohmann::json summary;        // summary.json, or null while the run has none
  MetricsTable metrics;          // metrics.csv (possibly no rows yet)
  MetricsTable steps;            // steps.csv (empty when absent)
  std::vector<NodeInfo> layers;  // the layer table, as validate prints it
  std::int64_t parameters = 0;
  RunStatus status = RunStatus::unfinished;
  std::string started, finished;  // UTC times of config.json and summary.json ("" when absent)

  // The metric early stopping and best.safetensors watch: training.early_stopping.monitor, else
  // val_loss when the run has validation, else train_loss.
  std::string monitor() const;
  // Lower is better for losses, higher for accuracies.
  bool monitor_higher_is_better() const { return monitor().find("accuracy") != std::string::npos; }
  // The best epoch by the monitored metric (summary.json's when present) and its value.
  std::optional<std::int64_t> best_epoch() const;
  double best_value() const;  // NaN when there is none
  // The last epoch's value of a metrics.csv column, NaN when absent.
  double last(const std::string& column) const;
  // summary.json's test.<key> (accuracy, loss), NaN when absent.
  double test(const std::string& key) const;
};

// Reads DIR. Throws IoError as described above.
RunData read_run(const std::string& dir);

}  // namespace nettrain::report
