// A whole training run and its run directory; see run.h.
#include "nettrain/run.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "nettrain/data.h"
#include "nettrain/errors.h"
#include "nettrain/io.h"
#include "nettrain/model_file.h"
#include "nettrain/plot.h"

namespace nettrain {

namespace {

namespace fs = std::filesystem;

std::string timestamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

std::string num(double v) {
  if (std::isnan(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

nlohmann::json json_num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

const char* kMetricsHeader = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second\n";
const char* kStepsHeader = "step,epoch,loss\n";

// The files of a run directory that grow as training goes.
struct RunFiles {
  std::string dir;
  AppendFile metrics, steps;
  std::string path(const std::string& name) const { return (fs::path(dir) / name).string(); }
};

std::uintmax_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

}  // namespace

nlohmann::json run_training(const RunOptions& options, RunHooks& hooks) {
  const auto wall0 = std::chrono::steady_clock::now();
  auto note = [&](const std::string& m) {
    if (hooks.log) hooks.log(m);
  };

  // 1. Config: from the file, or from the run being resumed (its resolved config.json).
  const bool resuming = !options.resume_dir.empty();
  std::string config_file = resuming ? (fs::path(options.resume_dir) / "config.json").string() : options.config_path;
  std::vector<std::string> overrides = options.overrides;
  if (options.seed) overrides.push_back("seed=" + std::to_string(*options.seed));
  Config config = load_config(config_file, overrides);
  if (resuming) {
    // A resumed run's config.json was resolved against the original config's folder.
    const auto& j = config.json;
    if (j.contains("_base_dir") || true) {
    }
  }

  // 2. Everything that can be checked before touching the disk.
  Experiment ex = build_experiment(config);
  DataBundle data = load_data(config.root().child("data"), config.base_dir, ex.options.seed, ex.loss->uses_labels());
  check_data_fits(data, ex.net, *ex.loss, config);

  LoadedModel checkpoint;
  TrainerState resume_state;
  nlohmann::json run_files;
  std::string dir;
  if (resuming) {
    dir = options.resume_dir;
    const std::string ckpt_path = (fs::path(dir) / "checkpoint.safetensors").string();
    if (!fs::exists(ckpt_path)) throw IoError("cannot resume " + dir + ": no checkpoint.safetensors in it");
    checkpoint = load_model(ckpt_path);
  } else {
    dir = options.out_dir.empty() ? (fs::path("runs") / (config.json["name"].get<std::string>() + "-" + timestamp())).string()
                                  : options.out_dir;
    if (fs::exists(fs::path(dir) / "config.json") || fs::exists(fs::path(dir) / "metrics.csv"))
      throw ConfigError("run directory " + dir + " already holds a run; use --resume " + dir + " or another --out");
  }
  return {};
}

}  // namespace nettrain
