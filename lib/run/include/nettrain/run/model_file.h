// Model and checkpoint files: safetensors whose tensors are the network's parameters and buffers
// (named "<layer>.weight", "<layer>.bias", "<layer>.running_mean", ...; an affine weight is
// [in, out]) and whose __metadata__ carries, as JSON strings, everything eval and predict need:
//
//   format            "nettrain-model-1" (checkpoints: "nettrain-checkpoint-1")
//   nettrain_version  the writer's version
//   config            the resolved config of the run
//   class_names       JSON array of class names ([] when labels were plain integers)
//   preprocess        the fitted preprocessing (scale, standardize statistics)
//   metrics           final (or best) metrics
//   architecture      the layer table: name, type, inputs, output shape, parameter count
//
// A checkpoint also holds the optimizer state vectors as tensors "optimizer.<name>" and, in
// metadata, "trainer_state", "optimizer" and "schedule_state".
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "nettrain/run/config.h"
#include "nettrain/layers/network.h"
#include "nettrain/io/safetensors.h"
#include "nettrain/train/trainer.h"

namespace nettrain {

struct ModelMetadata {
  nlohmann::json class_names = nlohmann::json::array();
  nlohmann::json preprocess = nlohmann::json::object();
  nlohmann::json metrics = nlohmann::json::object();
};

// The network's tensors plus the metadata above, ready to write.
SafetensorsWriter model_writer(const Network& net, const Config& config, const ModelMetadata& meta);
// model_writer plus optimizer, trainer and schedule state.
SafetensorsWriter checkpoint_writer(Network& net, const Config& config, const ModelMetadata& meta, Optimizer& opt,
                                    const Schedule& schedule, const TrainerState& state,
                                    const nlohmann::json& extra = {});

struct LoadedModel {
  Config config;
  Network net;
  std::unique_ptr<Loss> loss;
  ModelMetadata meta;
  SafetensorsFile file;
};

// MODEL is a .safetensors file or a run directory (its model.safetensors). Rebuilds the network
// from the stored config and loads every tensor, checking names, dtypes and shapes against it.
// Throws ModelFileError (exit 4) naming the file and what does not fit; IoError when unreadable.
LoadedModel load_model(const std::string& path);
std::string resolve_model_path(const std::string& path);
// RUN_DIR/best.safetensors, for eval/predict --best. ConfigError when `run_dir` is not a folder,
// IoError when the run has no best.safetensors.
std::string best_model_path(const std::string& run_dir);

// Restores optimizer, trainer and schedule state from a checkpoint loaded with load_model.
TrainerState restore_checkpoint(const LoadedModel& ckpt, Optimizer& opt, Schedule& schedule);

}  // namespace nettrain
