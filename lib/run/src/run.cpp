// A whole training run and its run directory; see run.h.
#include "nettrain/run/run.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"
#include "nettrain/core/files.h"
#include "nettrain/run/fit.h"
#include "nettrain/run/model_file.h"
#include "nettrain/io/plot.h"

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

// Nine significant digits, locale-free; NaN is an empty CSV cell.
std::string num(double v) {
  if (std::isnan(v)) return "";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 9);
  return std::string(buf, r.ptr);
}

nlohmann::json json_num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

// summary.json's "final" and the model's metrics: the last epoch's numbers.
nlohmann::json final_json(const EpochMetrics& m) {
  return {{"epoch", m.epoch},
          {"train_loss", json_num(m.train_loss)},
          {"train_accuracy", json_num(m.train_accuracy)},
          {"val_loss", m.val_loss ? json_num(*m.val_loss) : nullptr},
          {"val_accuracy", m.val_accuracy ? json_num(*m.val_accuracy) : nullptr},
          {"lr", m.lr}};
}

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

// Data paths in the saved config are made absolute, so the run's config.json (read back by
// --resume and stored in the model) works from any folder.
void absolutize_data_paths(nlohmann::json& data, const std::string& base_dir) {
  for (const char* split : {"train", "validation", "test"}) {
    if (!data.contains(split) || !data[split].is_object()) continue;
    for (const char* key : {"images", "labels", "path"}) {
      auto& v = data[split];
      if (!v.contains(key) || !v[key].is_string()) continue;
      fs::path p(v[key].get<std::string>());
      if (p.is_relative()) v[key] = (fs::absolute(fs::path(base_dir) / p)).lexically_normal().string();
    }
  }
}

nlohmann::json run_training(const RunOptions& options, RunHooks& hooks) {
  const auto wall0 = std::chrono::steady_clock::now();
  auto note = [&](const std::string& m) {
    if (hooks.log) hooks.log(m);
  };

  // 1. Config: from the file, or from the run being resumed (its resolved config.json).
  const bool resuming = !options.resume_dir.empty();
  const std::string config_file =
      resuming ? (fs::path(options.resume_dir) / "config.json").string() : options.config_path;
  std::vector<std::string> overrides = options.overrides;
  if (options.seed) overrides.push_back("seed=" + std::to_string(*options.seed));
  if (resuming && !fs::exists(config_file))
    throw IoError("cannot resume " + options.resume_dir + ": no config.json in it (is it a run directory?)");
  Config config = load_config(config_file, overrides);
  absolutize_data_paths(config.json["data"], config.base_dir);

  // 2. Everything that can be checked before touching the disk.
  Experiment ex = build_experiment(config);
  DataBundle data = load_data(config.root().child("data"), config.base_dir, ex.options.seed);
  check_data_fits(data, ex.net, *ex.loss, config.root().child("model"));
  ModelMetadata meta;
  meta.class_names = data.train.class_names;
  meta.preprocess = data.preprocess.to_json();

  // The trainer sizes (and zeroes) the optimizer state, so a checkpoint's state is restored after.
  Trainer trainer(ex.net, *ex.loss, *ex.optimizer, *ex.schedule, ex.options);
  TrainerState state;
  std::string dir;
  LoadedModel checkpoint;
  nlohmann::json run_files;
  if (resuming) {
    dir = options.resume_dir;
    checkpoint = load_model((fs::path(dir) / "checkpoint.safetensors").string());
    if (checkpoint.net.param_count() != ex.net.param_count())
      throw ModelFileError(dir + "/checkpoint.safetensors: its network has " +
                           std::to_string(checkpoint.net.param_count()) + " parameters, the config's " +
                           std::to_string(ex.net.param_count()));
    state = restore_checkpoint(checkpoint, *ex.optimizer, *ex.schedule);
    trainer.restore(state);
    auto it = checkpoint.file.metadata().find("run_files");
    if (it != checkpoint.file.metadata().end()) run_files = nlohmann::json::parse(it->second, nullptr, false);
  } else {
    dir = options.out_dir.empty()
              ? (fs::path("runs") / (config.json["name"].get<std::string>() + "-" + timestamp())).string()
              : options.out_dir;
    if (fs::exists(fs::path(dir) / "config.json") || fs::exists(fs::path(dir) / "metrics.csv"))
      throw ConfigError("run directory " + dir + " already holds a run; use --resume " + dir + " or another --out");
  }

  // 3. The run directory.
  make_directories(dir);
  RunFiles files;
  files.dir = dir;
  write_file_atomic(files.path("config.json"), config.json.dump(2) + "\n");
  if (hooks.on_run_dir) hooks.on_run_dir(dir, config, ex.net);
  if (resuming) {
    ex.net.params() = checkpoint.net.params();
    ex.net.buffers() = checkpoint.net.buffers();
    // Rows written after the checkpoint are dropped: the resumed run writes them again.
    for (const char* name : {"metrics.csv", "steps.csv"}) {
      const std::string key = std::string(name) == "metrics.csv" ? "metrics_bytes" : "steps_bytes";
      const std::string p = files.path(name);
      if (run_files.is_object() && run_files.contains(key) && run_files[key].is_number_unsigned() && fs::exists(p)) {
        const auto keep = run_files[key].get<std::uintmax_t>();
        std::error_code ec;
        if (file_size_or_zero(p) > keep) fs::resize_file(p, keep, ec);
        if (ec) throw IoError("cannot truncate " + p + " to its checkpointed size: " + ec.message());
      }
    }
    files.metrics = AppendFile(files.path("metrics.csv"), false);
    files.steps = AppendFile(files.path("steps.csv"), false);
    note("resuming " + dir + " at epoch " + std::to_string(state.epoch + 1) + ", step " + std::to_string(state.step));
  } else {
    ex.net.init_params(ex.options.seed);
    files.metrics = AppendFile(files.path("metrics.csv"), true);
    files.steps = AppendFile(files.path("steps.csv"), true);
    files.metrics.write(kMetricsHeader);
    files.steps.write(kStepsHeader);
    files.metrics.flush();
    files.steps.flush();
  }

  std::optional<EpochMetrics> last;

  TrainCallbacks cb = hooks.train;
  cb.on_log_step = [&](std::int64_t step, std::int64_t epoch, double loss) {
    files.steps.write(std::to_string(step) + "," + std::to_string(epoch) + "," + num(loss) + "\n");
  };
  cb.on_epoch_end = [&](const EpochMetrics& m, bool improved) {
    files.metrics.write(std::to_string(m.epoch) + "," + num(m.train_loss) + "," + num(m.train_accuracy) + "," +
                        (m.val_loss ? num(*m.val_loss) : "") + "," + (m.val_accuracy ? num(*m.val_accuracy) : "") +
                        "," + num(m.lr) + "," + num(m.seconds) + "," + num(m.samples_per_second) + "\n");
    files.metrics.flush();
    files.steps.flush();
    last = m;
    write_file_atomic(files.path("curves.svg"),
                      curves_svg({{config.json["name"].get<std::string>(), read_metrics_csv(files.path("metrics.csv"))}}));
    if (improved && (m.val_loss || ex.options.early_stopping.enabled)) {
      ModelMetadata best = meta;
      best.metrics = {{"epoch", m.epoch}, {"train_loss", json_num(m.train_loss)},
                      {"train_accuracy", json_num(m.train_accuracy)},
                      {"val_loss", m.val_loss ? json_num(*m.val_loss) : nullptr},
                      {"val_accuracy", m.val_accuracy ? json_num(*m.val_accuracy) : nullptr}};
      model_writer(ex.net, config, best).write(files.path("best.safetensors"));
    }
    if (hooks.train.on_epoch_end) hooks.train.on_epoch_end(m, improved);
  };
  cb.on_checkpoint = [&](const TrainerState& s) {
    files.metrics.flush();
    files.steps.flush();
    nlohmann::json sizes = {{"metrics_bytes", file_size_or_zero(files.path("metrics.csv"))},
                            {"steps_bytes", file_size_or_zero(files.path("steps.csv"))}};
    if (last)
      sizes["last_epoch"] = final_json(*last);
    else if (run_files.is_object() && run_files.contains("last_epoch"))
      sizes["last_epoch"] = run_files["last_epoch"];
    checkpoint_writer(ex.net, config, meta, *ex.optimizer, *ex.schedule, s, sizes)
        .write(files.path("checkpoint.safetensors"));
    if (hooks.train.on_checkpoint) hooks.train.on_checkpoint(s);
  };

  try {
    trainer.train(data.train, data.validation ? &*data.validation : nullptr, data.preprocess, cb);
  } catch (const TrainingError& e) {
    files.metrics.flush();
    files.steps.flush();
    const std::string ckpt = files.path("checkpoint.safetensors");
    throw TrainingError(std::string(e.what()) + (fs::exists(ckpt) ? "; the last good checkpoint is " + ckpt
                                                                   : "; no checkpoint was written yet"));
  }
  files.metrics.flush();
  files.steps.flush();

  // 4. Final evaluation, model and summary.
  // A run resumed from its final checkpoint trains no epoch: its last epoch is in the checkpoint.
  nlohmann::json final_metrics = nlohmann::json::object();
  if (last)
    final_metrics = final_json(*last);
  else if (run_files.is_object() && run_files.contains("last_epoch") && run_files["last_epoch"].is_object())
    final_metrics = run_files["last_epoch"];
  nlohmann::json test = nullptr;
  if (data.test) {
    const EvalResult r = evaluate(ex.net, *ex.loss, *data.test, data.preprocess, ex.options.eval_batch_size);
    test = {{"loss", json_num(r.loss)}, {"accuracy", json_num(r.accuracy)}, {"samples", r.samples}};
    note("test: loss " + num(r.loss) + (std::isnan(r.accuracy) ? "" : ", accuracy " + num(r.accuracy)));
  }
  meta.metrics = final_metrics;
  if (!test.is_null()) meta.metrics["test"] = test;
  model_writer(ex.net, config, meta).write(files.path("model.safetensors"));

  const MetricsTable table = read_metrics_csv(files.path("metrics.csv"));
  double all_seconds = 0, all_samples = 0;
  for (const auto& row : table.rows) {
    all_seconds += row[6];
    all_samples += row[6] * row[7];
  }
  const TrainerState& fin = trainer.state();
  const bool has_best = fs::exists(files.path("best.safetensors"));
  nlohmann::json summary = {
      {"name", config.json["name"]},
      {"run_dir", dir},
      {"epochs", fin.epoch},
      {"steps", fin.step},
      {"stopped_early", fin.stopped_early},
      {"best_epoch", fin.has_best ? nlohmann::json(fin.best_epoch) : nlohmann::json(nullptr)},
      {"final", final_metrics},
      {"test", test},
      {"parameters", ex.net.param_count()},
      {"train_samples", data.train.num_samples},
      {"validation_samples", data.validation ? data.validation->num_samples : 0},
      {"train_seconds", all_seconds},
      {"samples_per_second", all_seconds > 0 ? all_samples / all_seconds : 0.0},
      {"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count()},
      {"threads", options.threads},
      {"seed", config.json["seed"]},
      {"paths",
       {{"config", files.path("config.json")},
        {"metrics", files.path("metrics.csv")},
        {"steps", files.path("steps.csv")},
        {"curves", files.path("curves.svg")},
        {"model", files.path("model.safetensors")},
        {"best", has_best ? nlohmann::json(files.path("best.safetensors")) : nlohmann::json(nullptr)},
        {"checkpoint", files.path("checkpoint.safetensors")},
        {"log", files.path("train.log")}}}};
  write_file_atomic(files.path("summary.json"), summary.dump(2) + "\n");
  return summary;
}

}  // namespace nettrain
