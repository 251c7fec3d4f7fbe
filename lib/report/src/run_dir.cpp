// Reading a run directory back; see run_dir.h.
#include "nettrain/report/run_dir.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "nettrain/core/errors.h"
#include "nettrain/core/files.h"
#include "nettrain/run/config.h"

namespace nettrain::report {

namespace {

namespace fs = std::filesystem;

// The modification time of a file as "YYYY-mm-dd HH:MM:SS UTC", "" when it does not exist.
std::string mtime_utc(const fs::path& p) {
  std::error_code ec;
  const auto t = fs::last_write_time(p, ec);
  if (ec) return "";
  const std::time_t tt = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(std::chrono::file_clock::to_sys(t)));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

nlohmann::json read_json(const fs::path& p) {
  const std::string text = read_file(p.string());
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw IoError(p.string() + ": not valid JSON (byte " + std::to_string(e.byte) + "): " + e.what());
  }
}

void read_files(RunData& run, const fs::path& dir) {
  if (!fs::is_directory(dir)) throw IoError(run.dir + ": not a run directory (no such folder)");
  for (const char* required : {"config.json", "metrics.csv"})
    if (!fs::exists(dir / required))
      throw IoError(run.dir + ": not a run directory (no " + std::string(required) + " in it)");
  run.config = read_json(dir / "config.json");
  if (!run.config.is_object()) throw IoError((dir / "config.json").string() + ": expected a JSON object");
  run.name = run.config.value("name", dir.filename().string());
  run.metrics = read_metrics_csv((dir / "metrics.csv").string());
  if (fs::exists(dir / "steps.csv")) run.steps = read_metrics_csv((dir / "steps.csv").string());
  if (fs::exists(dir / "summary.json")) {
    run.summary = read_json(dir / "summary.json");
    if (!run.summary.is_object()) throw IoError((dir / "summary.json").string() + ": expected a JSON object");
  }
  run.started = mtime_utc(dir / "config.json");
  run.finished = mtime_utc(dir / "summary.json");
}

// The layer table and parameter count from the resolved config, as train built the network.
void read_network(RunData& run, const fs::path& dir) {
  const Config config = config_from_json(run.config, (dir / "config.json").string(), dir.string());
  const Experiment ex = build_experiment(config);
  run.layers = ex.net.summary();
  run.parameters = ex.net.param_count();
}

}  // namespace

std::string to_string(RunStatus s) {
  switch (s) {
    case RunStatus::finished: return "finished";
    case RunStatus::stopped_early: return "stopped early";
    case RunStatus::unfinished: break;
  }
  return "unfinished";
}

RunData read_run(const std::string& dir) {
  RunData run;
  run.dir = dir;
  const fs::path p(dir);
  try {
    read_files(run, p);
    read_network(run, p);
  } catch (const IoError&) {
    throw;
  } catch (const Error& e) {
    // A damaged run is one kind of failure for the caller (exit 5): the message says which file.
    throw IoError(e.what());
  }
  if (run.summary.is_object())
    run.status = run.summary.value("stopped_early", false) ? RunStatus::stopped_early : RunStatus::finished;
  return run;
}

std::string RunData::monitor() const {
  const auto es = config.value("/training/early_stopping/monitor"_json_pointer, std::string());
  if (!es.empty()) return es;
  bool has_val = false;
  if (metrics.has_column("val_loss"))
    for (const double v : metrics.column("val_loss")) has_val = has_val || std::isfinite(v);
  return has_val ? "val_loss" : "train_loss";
}

std::optional<std::int64_t> RunData::best_epoch() const {
  if (summary.is_object() && summary.contains("best_epoch") && summary["best_epoch"].is_number_integer())
    return summary["best_epoch"].get<std::int64_t>();
  const std::string m = monitor();
  if (!metrics.has_column(m) || !metrics.has_column("epoch")) return std::nullopt;
  const std::vector<double> v = metrics.column(m), epoch = metrics.column("epoch");
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) continue;
    if (!best || (monitor_higher_is_better() ? v[i] > v[*best] : v[i] < v[*best])) best = i;
  }
  if (!best) return std::nullopt;
  return static_cast<std::int64_t>(epoch[*best]);
}

double RunData::best_value() const {
  const auto b = best_epoch();
  const std::string m = monitor();
  if (!b || !metrics.has_column(m) || !metrics.has_column("epoch")) return std::nan("");
  const std::vector<double> v = metrics.column(m), epoch = metrics.column("epoch");
  for (std::size_t i = 0; i < v.size(); ++i)
    if (static_cast<std::int64_t>(epoch[i]) == *b) return v[i];
  return std::nan("");
}

double RunData::last(const std::string& column) const {
  if (metrics.rows.empty() || !metrics.has_column(column)) return std::nan("");
  return metrics.column(column).back();
}

double RunData::test(const std::string& key) const {
  if (!summary.is_object() || !summary.contains("test") || !summary["test"].is_object()) return std::nan("");
  const auto& t = summary["test"];
  return t.contains(key) && t[key].is_number() ? t[key].get<double>() : std::nan("");
}

}  // namespace nettrain::report
