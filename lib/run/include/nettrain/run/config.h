// Config files: parsing with positions, --set overrides, the schema of the top level and of
// "training", and the resolved form (defaults filled in) that a run saves as config.json.
//
// Sections and their owners: "model" -> Network::from_config and the loss registry, "data" ->
// data.h, "training" -> here (TrainOptions) plus the optimizer and schedule registries.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "nettrain/core/config_node.h"
#include "nettrain/train/loss.h"
#include "nettrain/layers/network.h"
#include "nettrain/train/optimizer.h"
#include "nettrain/train/schedule.h"
#include "nettrain/train/trainer.h"

namespace nettrain {

struct Config {
  nlohmann::json json;   // after overrides and with defaults filled in
  std::string file;      // the path given, for messages
  std::string base_dir;  // the config file's folder: relative data paths start here
  // The --set values applied, so errors about them name the override instead of the file.
  std::shared_ptr<const SetOverrides> overrides;
  ConfigNode root() const { return ConfigNode(json, "", file, overrides); }
};

// Parses JSON text; a syntax error throws ConfigError "FILE:LINE:COLUMN: syntax error: ...".
nlohmann::json parse_json_text(const std::string& text, const std::string& file);

// Applies "a.b.0.c=VALUE" to j: VALUE is parsed as JSON, else taken as a string (so
// `training.optimizer={"type": "adam"}` replaces the whole object). Objects on the path are
// created when missing; array indices must exist. Throws ConfigError naming the path. Returns the
// JSON pointer that was set ("/a/b/0/c").
std::string apply_override(nlohmann::json& j, const std::string& assignment);

// Reads, overrides, validates the top level and "training", fills defaults. Model and data
// sections are checked by build_experiment() and the data loader. File paths in the file are
// relative to its folder; file paths given in an override, relative to the current directory
// (as a shell user expects), so they are made absolute as the override is applied.
Config load_config(const std::string& path, const std::vector<std::string>& overrides);
// The same from a JSON value (a model file's stored config).
Config config_from_json(nlohmann::json j, const std::string& file, const std::string& base_dir,
                        std::shared_ptr<const SetOverrides> overrides = nullptr);

// Everything a run needs besides data, built from a config.
struct Experiment {
  Network net;
  std::unique_ptr<Loss> loss;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<Schedule> schedule;
  TrainOptions options;
};

// Builds the network (shape-checked), loss, optimizer, schedule and options. Does not initialise
// parameters (call net.init_params(seed)). Throws ConfigError naming file and JSON pointer.
Experiment build_experiment(const Config& config);
// The loss alone ("model.loss" as a string or {"type": ...}).
std::unique_ptr<Loss> build_loss(const Config& config);

}  // namespace nettrain
