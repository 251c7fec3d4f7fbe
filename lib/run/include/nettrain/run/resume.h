// What `train --resume RUN_DIR` may change. A resumed run must end as the run it continues, so
// only settings that keep it exact and meaningful may be overridden:
//
//   training.epochs            upwards only (the run goes on for longer)
//   training.early_stopping    monitor, patience, min_delta
//   training.checkpoint_every  how often it checkpoints
//   training.log_every_steps   how often steps.csv gets a row
//
// Anything else (seed, data, model, batch size, optimizer, schedule, ...), a CONFIG argument and
// --seed are refused with a ConfigError (exit 2) that names the key and why.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "nettrain/run/config.h"

namespace nettrain {

// Refuses a CONFIG argument (`config_arg`) and --seed (`seed`) given with --resume.
void check_resume_arguments(const std::string& run_dir, const std::string& config_arg,
                            const std::optional<std::int64_t>& seed);

// The run's own config.json with `overrides` applied, after checking it against the policy above
// and against `checkpointed`, the config stored in the checkpoint (so a hand edit of config.json
// is held to the same rules).
Config resume_config(const std::string& run_dir, const std::vector<std::string>& overrides,
                     const nlohmann::json& checkpointed);

// Dotted paths ("training.optimizer.lr", "model.layers.0.units") whose values differ between two
// JSON documents: objects are compared key by key, arrays element by element; a key present on
// one side only is a difference at its path.
std::vector<std::string> changed_paths(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace nettrain
