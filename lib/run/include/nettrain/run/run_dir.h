// A run directory (SPEC §4): where its files are, the two logs that grow as training goes
// (metrics.csv, steps.csv) and the formats of their rows.
//
// Durability is proportional: rows are written as they come (a crashed process loses nothing the
// kernel has), and fsynced at checkpoints and at the end, so a machine crash loses at most what
// came after the last checkpoint, which a resume writes again anyway.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "nettrain/core/files.h"
#include "nettrain/train/trainer.h"

namespace nettrain {

class RunDir {
 public:
  RunDir() = default;
  explicit RunDir(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const;  // dir/name

  // A new run: metrics.csv and steps.csv with their headers.
  void start_logs();
  // A resumed run: both logs cut back to the sizes `sizes()` gave at the checkpoint (rows written
  // after it are written again by the resumed run), then appended to.
  void resume_logs(const nlohmann::json& sizes);
  // {"metrics_bytes": ..., "steps_bytes": ...}: what a checkpoint records.
  nlohmann::json sizes() const;

  void append_step(std::int64_t step, std::int64_t epoch, double loss);
  void append_epoch(const EpochMetrics& m);
  void write_out();  // rows to the kernel
  void sync();       // rows to the disk (checkpoints, end)

 private:
  std::string dir_;
  AppendFile metrics_, steps_;
};

// runs/<name>-<YYYYmmdd-HHMMSS> (local time).
std::string default_run_dir(const std::string& name);

// A number as a CSV cell: nine significant digits, locale-free; NaN is an empty cell.
std::string csv_number(double v);
// A number for JSON: null when not finite (JSON has no NaN).
nlohmann::json json_number(double v);
// An epoch's metrics as JSON (summary.json's "final", a model's "metrics").
nlohmann::json epoch_json(const EpochMetrics& m);

}  // namespace nettrain
