// Exact resume at every kind of stopping point, driven through run_training with a should_stop
// that fires after exactly N steps (the CLI tests do the same with real signals, but cannot pick
// the step): mid-epoch, just before and just after an epoch's last step, at an epoch start.
// The resumed run must end with the same model bytes and the same metrics/steps rows as an
// unbroken run.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "data_fixtures.h"
#include "nettrain/core/errors.h"
#include "nettrain/run/run.h"

using namespace nettrain;
using namespace test_data;

namespace {

std::string spirals() {
  return (std::filesystem::path(NETTRAIN_TEST_DATA) / ".." / ".." / "data" / "spirals.csv").lexically_normal().string();
}

void write_config(const std::string& path, const std::string& optimizer, const std::string& schedule) {
  std::ofstream(path) << R"({"name": "r", "seed": 5,
  "data": {"train": {"format": "csv", "path": ")"
                      << spirals() << R"(", "label_column": "label"},
           "validation": {"split": 0.25}},
  "model": {"input_shape": [2], "layers": [
    {"type": "affine", "name": "a", "units": 12}, {"type": "batchnorm"}, {"type": "relu"},
    {"type": "dropout", "rate": 0.25}, {"type": "affine", "name": "b", "units": 2}],
    "loss": "softmax_cross_entropy"},
  "training": {"epochs": 3, "batch_size": 50, "log_every_steps": 4,
               "optimizer": )"
                      << optimizer << R"(, "lr_schedule": )" << schedule << "}}";
}

// Metrics rows without the wall-time columns (seconds, samples_per_second).
std::string metrics_without_time(const std::string& path) {
  std::istringstream in(read_bytes(path));
  std::string line, out;
  while (std::getline(in, line)) {
    std::size_t cut = line.size();
    for (int commas = 0, i = 0; i < static_cast<int>(line.size()); ++i)
      if (line[static_cast<std::size_t>(i)] == ',' && ++commas == 6) cut = static_cast<std::size_t>(i);
    out += line.substr(0, cut) + "\n";
  }
  return out;
}

// Trains; when stop_after > 0, stops after that many steps and resumes.
void train(const std::string& config, const std::string& dir, int stop_after) {
  RunOptions o;
  o.config_path = config;
  o.out_dir = dir;
  RunHooks hooks;
  int steps = 0;
  hooks.train.on_step = [&](std::int64_t, std::int64_t, std::int64_t, double, double, double) { ++steps; };
  hooks.train.should_stop = [&] { return stop_after > 0 && steps >= stop_after; };
  if (stop_after <= 0) {
    run_training(o, hooks);
    return;
  }
  CHECK_THROWS_AS(run_training(o, hooks), TrainingError);
  CHECK(std::filesystem::exists(dir + "/checkpoint.safetensors"));
  CHECK_FALSE(std::filesystem::exists(dir + "/model.safetensors"));
  RunOptions r;
  r.resume_dir = dir;
  RunHooks none;
  run_training(r, none);
}

}  // namespace

TEST_CASE("resume at any step gives the bits of an unbroken run") {
  // 750 training samples / 50 = 15 steps per epoch.
  const char* combos[][2] = {
      {R"({"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true})", R"({"type": "cosine", "warmup_epochs": 1})"},
      {R"({"type": "adam", "lr": 0.01})", R"({"type": "reduce_on_plateau", "patience": 1, "threshold": 0.5})"},
      {R"({"type": "rmsprop", "lr": 0.01})", R"({"type": "step", "step_size": 1, "gamma": 0.5})"},
  };
  for (const auto& combo : combos) {
    TempDir t;
    write_config(t.file("c.json"), combo[0], combo[1]);
    train(t.file("c.json"), t.file("ref"), 0);
    for (int stop : {1, 7, 14, 15, 16, 30, 44, 45}) {
      CAPTURE(combo[0]);
      CAPTURE(combo[1]);
      CAPTURE(stop);
      const std::string dir = t.file("s" + std::to_string(stop));
      train(t.file("c.json"), dir, stop);
      CHECK(read_bytes(dir + "/model.safetensors") == read_bytes(t.file("ref/model.safetensors")));
      CHECK(read_bytes(dir + "/steps.csv") == read_bytes(t.file("ref/steps.csv")));
      CHECK(metrics_without_time(dir + "/metrics.csv") == metrics_without_time(t.file("ref/metrics.csv")));
    }
  }
}
