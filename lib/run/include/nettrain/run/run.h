// A training run from start to finish: config -> network, data -> run directory (SPEC §4):
// config.json, metrics.csv, steps.csv, curves.svg, model.safetensors, best.safetensors,
// checkpoint.safetensors, summary.json. train.log belongs to the app's log sink, which hooks in
// through on_run_dir.
//
// Nothing is created before the config, the network and the data have all been checked, so a
// bad input leaves no run directory behind.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nettrain/core/collective.h"
#include "nettrain/run/config.h"
#include "nettrain/data/data.h"
#include "nettrain/train/trainer.h"

namespace nettrain {

struct RunOptions {
  std::string config_path;             // refused with resume_dir (see resume.h)
  std::vector<std::string> overrides;  // --set
  std::string out_dir;                 // "" = runs/<name>-<YYYYmmdd-HHMMSS>
  std::string resume_dir;              // continue this run
  std::optional<std::int64_t> seed;    // --seed
  int threads = 1;                     // per process
  std::string command_line;            // as typed, for summary.json
  // The processes of a data-parallel run (mpirun); nullptr: one process. Rank 0 alone writes the
  // run directory; all ranks read the config, the data and (on --resume) the checkpoint.
  Collective* collective = nullptr;
};

struct RunHooks {
  TrainCallbacks train;  // on_checkpoint and on_epoch_end are wrapped: files are written first
  std::function<void(const std::string& run_dir, const Config& config, const Network& net)> on_run_dir;
  std::function<void(const std::string& message)> log;  // progress notes for the log
};

// Makes the data paths of a config's "data" section absolute (relative to base_dir).
void absolutize_data_paths(nlohmann::json& data, const std::string& base_dir);
// The same for the "model" section's init_from.
void absolutize_init_from(nlohmann::json& model, const std::string& base_dir);

// Runs training and returns summary.json's content. Throws the library's typed errors.
nlohmann::json run_training(const RunOptions& options, RunHooks& hooks);

}  // namespace nettrain
