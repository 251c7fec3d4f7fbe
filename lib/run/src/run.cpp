// A whole training run and its run directory; see run.h. The steps, in order: the config (new,
// or the resumed run's under the resume policy), everything that can be checked before the disk
// is touched, the run directory, training with the files written as it goes, and the end (test
// evaluation, model.safetensors, summary.json).
#include "nettrain/run/run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "nettrain/core/errors.h"
#include "nettrain/core/files.h"
#include "nettrain/io/plot.h"
#include "nettrain/run/agreement.h"
#include "nettrain/run/fit.h"
#include "nettrain/run/model_file.h"
#include "nettrain/run/resume.h"
#include "nettrain/run/run_dir.h"
#include "nettrain/run/transfer.h"

namespace nettrain {

namespace {

namespace fs = std::filesystem;

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// What a checkpoint carries besides weights and optimizer state (metadata "run_files"): the
// logs' sizes, the last finished epoch, and the run's history (command lines, resumes).
nlohmann::json read_run_files(const LoadedModel& checkpoint) {
  const auto& meta = checkpoint.file.metadata();
  auto it = meta.find("run_files");
  if (it == meta.end()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(it->second, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

class TrainingRun {
 public:
  TrainingRun(const RunOptions& options, RunHooks& hooks) : options_(options), hooks_(hooks) {}

  nlohmann::json execute() {
    const auto wall0 = std::chrono::steady_clock::now();
    std::optional<nlohmann::json> done;
    agree(comm(), false, [&] {
      done = load_inputs();
      if (!done) prepare();
    });
    if (done) return *done;
    check_same_inputs(comm(), config_.json, data_);
    use_checkpoint_weights();
    agree(comm(), true, [&] { open_run_files(); });
    train();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    nlohmann::json summary;
    finish_model();
    agree(comm(), true, [&] { summary = write_final(wall); });
    return summary;
  }

 private:
  Collective& comm() const { return options_.collective ? *options_.collective : single_process(); }
  bool writer() const { return comm().rank() == 0; }  // rank 0 alone writes the run directory

  // The config (new, or the resumed run's) and the checkpoint; the summary when the resumed run
  // has already finished.
  std::optional<nlohmann::json> load_inputs() {
    if (resuming()) {
      check_resume_arguments(options_.resume_dir, options_.config_path, options_.seed);
      if (!fs::exists(fs::path(options_.resume_dir) / "checkpoint.safetensors") && fs::exists(options_.resume_dir))
        throw IoError(fmt::format("cannot resume {}: it has no checkpoint.safetensors (is it a run directory?)",
                                  options_.resume_dir));
      checkpoint_ = load_model((fs::path(options_.resume_dir) / "checkpoint.safetensors").string());
      config_ = resume_config(options_.resume_dir, options_.overrides, checkpoint_.config.json);
      run_files_ = read_run_files(checkpoint_);
      if (auto done = already_finished()) return done;
    } else {
      std::vector<std::string> overrides = options_.overrides;
      if (options_.seed) overrides.push_back(fmt::format("seed={}", *options_.seed));
      config_ = load_config(options_.config_path, overrides);
      absolutize_data_paths(config_.json["data"], config_.base_dir);
      absolutize_init_from(config_.json["model"], config_.base_dir);
    }
    return std::nullopt;
  }

  bool resuming() const { return !options_.resume_dir.empty(); }
  void note(const std::string& m) const {
    if (hooks_.log && writer()) hooks_.log(m);
  }
  std::string name() const { return config_.json["name"].get<std::string>(); }
  std::int64_t epochs() const { return config_.json["training"]["epochs"].get<std::int64_t>(); }

  // A run that has trained all its epochs (or stopped early) and written its model and summary is
  // left as it is; one stopped after its last checkpoint but before those goes on to write them.
  std::optional<nlohmann::json> already_finished() {
    const fs::path dir(options_.resume_dir);
    if (!fs::exists(dir / "model.safetensors") || !fs::exists(dir / "summary.json")) return std::nullopt;
    const TrainerState s = TrainerState::from_json(nlohmann::json::parse(
        checkpoint_.file.metadata().count("trainer_state") ? checkpoint_.file.metadata().at("trainer_state") : "{}",
        nullptr, false));
    if (s.epoch < epochs() && !s.stopped_early) return std::nullopt;
    note(
        fmt::format("{} has already finished ({} epochs{}); nothing to do (raise training.epochs with --set to "
                    "train on)",
                    options_.resume_dir, s.epoch, s.stopped_early ? ", stopped early" : ""));
    const std::string summary = (fs::path(options_.resume_dir) / "summary.json").string();
    nlohmann::json j = fs::exists(summary) ? nlohmann::json::parse(read_file(summary), nullptr, false) : nullptr;
    if (!j.is_object()) j = {{"name", name()}, {"run_dir", options_.resume_dir}};
    return j;
  }

  // Everything that can be checked before touching the disk.
  void prepare() {
    ex_ = build_experiment(config_);
    ex_.options.collective = options_.collective;
    check_shards_split();
    data_ = load_data(config_.root().child("data"), config_.base_dir, ex_.options.seed);
    check_data_fits(data_, ex_.net, *ex_.loss, config_.root().child("model"));
    if (ex_.options.restore_best_weights && !data_.validation && !ex_.options.early_stopping.enabled)
      config_.root()
          .child("training")
          .fail("restore_best_weights",
                "needs a validation split or early_stopping: it restores the epoch with the best "
                "monitored metric, and without either there is none");
    meta_.class_names = data_.train.class_names;
    meta_.preprocess = data_.preprocess.to_json();
    // The trainer sizes (and zeroes) the optimizer state, so a checkpoint's state is restored after.
    trainer_ = std::make_unique<Trainer>(ex_.net, *ex_.loss, *ex_.optimizer, *ex_.schedule, ex_.options);
    if (!resuming()) {
      ex_.net.init_params(ex_.options.seed);
      if (config_.json["model"].contains("init_from")) load_init_from();
      return;
    }
    if (checkpoint_.net.param_count() != ex_.net.param_count())
      throw ModelFileError(fmt::format("{}/checkpoint.safetensors: its network has {} parameters, the config's {}",
                                       options_.resume_dir, checkpoint_.net.param_count(), ex_.net.param_count()));
    trainer_->restore(restore_checkpoint(checkpoint_, *ex_.optimizer, *ex_.schedule));
  }

  // On every process: a resumed run's weights.
  void use_checkpoint_weights() {
    if (!resuming()) return;
    ex_.net.params() = checkpoint_.net.params();
    ex_.net.buffers() = checkpoint_.net.buffers();
  }

  // The run directory (rank 0 alone).
  // training.batch_shards > 1 promises the same bits for every process count that is a power of
  // two dividing it: refuse the others.
  void check_shards_split() const {
    const std::int64_t S = ex_.options.batch_shards;
    const int P = comm().size();
    if (S <= 1 || ((P & (P - 1)) == 0 && S % P == 0)) return;
    std::vector<std::int64_t> ok;
    for (std::int64_t p = 1; p <= S; p *= 2) ok.push_back(p);
    config_.root()
        .child("training")
        .fail("batch_shards", fmt::format("{} shards split evenly over {} processes, not {} (or set batch_shards to 1)",
                                          S, fmt::join(ok, ", "), P));
  }

  void open_run_files() {
    std::string dir = resuming()                 ? options_.resume_dir
                      : options_.out_dir.empty() ? default_run_dir(name())
                                                 : options_.out_dir;
    if (!resuming() && (fs::exists(fs::path(dir) / "config.json") || fs::exists(fs::path(dir) / "metrics.csv")))
      throw ConfigError(
          fmt::format("run directory {} already holds a run; use --resume {} or another --out", dir, dir));
    make_directories(dir);
    files_ = RunDir(dir);
    write_file_atomic(files_.path("config.json"), config_.json.dump(2) + "\n");
    if (hooks_.on_run_dir) hooks_.on_run_dir(dir, config_, ex_.net);
    record_history();
    if (resuming()) {
      files_.resume_logs(run_files_);
      const TrainerState& s = trainer_->state();
      note(fmt::format("resuming {} at epoch {}, step {}", dir, s.epoch + 1, s.step));
    } else {
      files_.start_logs();
      if (!init_note_.empty()) note(init_note_);  // now that train.log exists
    }
    const nlohmann::json cache_notes = data_cache_notes();
    for (const auto& [split, what] : cache_notes.items())
      note(fmt::format("data cache: {}: {}{}", split, what.get<std::string>(),
                       what.get<std::string>().rfind("not written", 0) == 0 ? " (training goes on without it)" : ""));
  }

  // What the data cache did for each CSV split ({} when no split is a CSV).
  nlohmann::json data_cache_notes() const {
    nlohmann::json j = nlohmann::json::object();
    if (!data_.train.cache_note.empty()) j["train"] = data_.train.cache_note;
    if (data_.validation && !data_.validation->cache_note.empty() &&
        data_.validation->source.find("(validation split)") == std::string::npos)
      j["validation"] = data_.validation->cache_note;
    if (data_.test && !data_.test->cache_note.empty()) j["test"] = data_.test->cache_note;
    return j;
  }

  void load_init_from() {
    const InitFromReport r = init_from(ex_.net, config_.json["model"]["init_from"].get<std::string>());
    init_note_ = (fmt::format(
        "init_from {}: {} tensors loaded ({}){}", r.path, r.loaded.size(), fmt::join(r.loaded, ", "),
        r.kept.empty() ? ""
                       : fmt::format("; {} kept their initialisation ({})", r.kept.size(), fmt::join(r.kept, ", "))));
  }

  // model.safetensors holds the best epoch's weights when training.restore_best_weights is set.
  bool restore_best() {
    if (!ex_.options.restore_best_weights || !trainer_->state().has_best) return false;
    const std::string best = files_.path("best.safetensors");
    if (!fs::exists(best)) return false;
    const LoadedModel b = load_model(best);
    ex_.net.params() = b.net.params();
    ex_.net.buffers() = b.net.buffers();
    note(fmt::format("restored the best epoch's weights (epoch {}) from {}", trainer_->state().best_epoch, best));
    return true;
  }

  // The command line of the run's start, its --set overrides, and one entry per resume.
  void record_history() {
    if (!resuming()) {
      run_files_ = {{"command_line", options_.command_line},
                    {"overrides", options_.overrides},
                    {"resumes", nlohmann::json::array()}};
      return;
    }
    if (!run_files_.contains("resumes") || !run_files_["resumes"].is_array())
      run_files_["resumes"] = nlohmann::json::array();
    run_files_["resumes"].push_back({{"at", utc_now()},
                                     {"from_epoch", trainer_->state().epoch + 1},
                                     {"command_line", options_.command_line},
                                     {"overrides", options_.overrides}});
  }

  TrainCallbacks callbacks() {
    TrainCallbacks cb = hooks_.train;
    if (!writer()) {  // the other ranks train in step and stay quiet
      cb = TrainCallbacks{};
      cb.should_stop = hooks_.train.should_stop;
      return cb;
    }
    cb.on_log_step = [this](std::int64_t step, std::int64_t epoch, double loss) {
      files_.append_step(step, epoch, loss);
    };
    cb.on_epoch_end = [this](const EpochMetrics& m, bool improved) { epoch_end(m, improved); };
    cb.on_checkpoint = [this](const TrainerState& s) { write_checkpoint(s); };
    return cb;
  }

  void epoch_end(const EpochMetrics& m, bool improved) {
    files_.append_epoch(m);
    files_.write_out();
    last_ = m;
    write_curves(false);
    if (improved && (m.val_loss || ex_.options.early_stopping.enabled)) {
      ModelMetadata best = meta_;
      best.metrics = epoch_json(m);
      best.metrics.erase("lr");
      model_writer(ex_.net, config_, best).write(files_.path("best.safetensors"), false);  // synced at the end
    }
    if (hooks_.train.on_epoch_end) hooks_.train.on_epoch_end(m, improved);
    if (trainer_->state().stopped_early) note_early_stop(m);
  }

  void note_early_stop(const EpochMetrics& m) const {
    const TrainerState& s = trainer_->state();
    const EarlyStopping& es = ex_.options.early_stopping;
    note(
        fmt::format("stopped early at epoch {}: {} has not improved by more than {} for {} epochs; best epoch {} "
                    "({} {}); {}",
                    m.epoch, es.monitor, es.min_delta, s.bad_epochs, s.best_epoch, es.monitor, csv_number(s.best),
                    ex_.options.restore_best_weights
                        ? "model.safetensors will hold the best epoch's weights (restore_best_weights)"
                        : "model.safetensors holds the last epoch's weights, best.safetensors the best epoch's"));
  }

  void write_curves(bool sync) {
    const std::int64_t best = trainer_->state().has_best ? trainer_->state().best_epoch : 0;
    write_file_atomic(files_.path("curves.svg"),
                      curves_svg({{name(), read_metrics_csv(files_.path("metrics.csv"))}}, best), sync);
  }

  // Checkpoints are written as configured; they reach the disk (fsync) at most every
  // kSyncSeconds, and always at the end of training and on Ctrl-C: a crash of the process never
  // loses one, a crash of the machine at most the last few seconds.
  void write_checkpoint(const TrainerState& s) {
    const bool final =
        s.epoch >= epochs() || s.stopped_early || (hooks_.train.should_stop && hooks_.train.should_stop());
    const bool sync = final || std::chrono::steady_clock::now() - last_sync_ >= std::chrono::seconds(kSyncSeconds);
    if (sync) {
      files_.sync();
      last_sync_ = std::chrono::steady_clock::now();
    } else {
      files_.write_out();
    }
    nlohmann::json extra = run_files_;
    extra.update(files_.sizes());
    if (last_) extra["last_epoch"] = epoch_json(*last_);
    checkpoint_writer(ex_.net, config_, meta_, *ex_.optimizer, *ex_.schedule, s, extra)
        .write(files_.path("checkpoint.safetensors"), sync);
    if (hooks_.train.on_checkpoint) hooks_.train.on_checkpoint(s);
  }

  void train() {
    try {
      trainer_->train(data_.train, data_.validation ? &*data_.validation : nullptr, data_.preprocess, callbacks());
    } catch (const TrainingError& e) {
      // Divergence and Ctrl-C are seen by every process at the same step (global sums).
      comm().set_agreed_failure();
      if (!writer()) throw;
      files_.sync();
      const std::string ckpt = files_.path("checkpoint.safetensors");
      throw TrainingError(std::string(e.what()) + (fs::exists(ckpt) ? "; the last good checkpoint is " + ckpt
                                                                    : "; no checkpoint was written yet"));
    }
    if (!writer()) return;
    files_.sync();
    if (last_) write_curves(true);
    if (fs::exists(files_.path("best.safetensors"))) sync_file(files_.path("best.safetensors"));
  }

  // The final weights (the best epoch's, read by rank 0 and sent to all) and the test
  // evaluation, split across the processes.
  void finish_model() {
    if (writer()) restored_best_ = restore_best();
    if (comm().size() > 1) {
      comm().broadcast(std::span<float>(ex_.net.params().data(), static_cast<std::size_t>(ex_.net.params().size())));
      comm().broadcast(std::span<float>(ex_.net.buffers().data(), static_cast<std::size_t>(ex_.net.buffers().size())));
    }
    if (data_.test) {
      const EvalResult r =
          evaluate_split(ex_.net, *ex_.loss, *data_.test, data_.preprocess, ex_.options.eval_batch_size, comm());
      test_ = {{"loss", json_number(r.loss)}, {"accuracy", json_number(r.accuracy)}, {"samples", r.samples}};
    }
  }

  // model.safetensors and summary.json (rank 0; the others return a summary without files).
  nlohmann::json write_final(double wall_seconds) {
    if (!writer()) return {{"name", name()}, {"rank", comm().rank()}};
    // A run resumed from its final checkpoint trains no epoch: its last epoch is in the checkpoint.
    nlohmann::json final_metrics = nlohmann::json::object();
    if (last_) final_metrics = epoch_json(*last_);
    else if (run_files_.contains("last_epoch") && run_files_["last_epoch"].is_object())
      final_metrics = run_files_["last_epoch"];
    const nlohmann::json& test = test_;
    meta_.metrics = final_metrics;
    if (!test.is_null()) meta_.metrics["test"] = test;
    model_writer(ex_.net, config_, meta_).write(files_.path("model.safetensors"));
    nlohmann::json summary = summary_json(final_metrics, test, wall_seconds);
    write_file_atomic(files_.path("summary.json"), summary.dump(2) + "\n");
    return summary;
  }

  nlohmann::json summary_json(const nlohmann::json& final_metrics, const nlohmann::json& test,
                              double wall_seconds) const {
    const MetricsTable table = read_metrics_csv(files_.path("metrics.csv"));
    double all_seconds = 0, all_samples = 0;
    for (const auto& row : table.rows) {
      all_seconds += row[6];
      all_samples += row[6] * row[7];
    }
    const TrainerState& fin = trainer_->state();
    const auto path_or_null = [&](const std::string& f) {
      return fs::exists(files_.path(f)) ? nlohmann::json(files_.path(f)) : nlohmann::json(nullptr);
    };
    return {{"name", config_.json["name"]},
            {"run_dir", files_.dir()},
            {"command_line", run_files_.value("command_line", options_.command_line)},
            {"overrides", run_files_.value("overrides", nlohmann::json(options_.overrides))},
            {"resumes", run_files_.value("resumes", nlohmann::json::array())},
            {"epochs", fin.epoch},
            {"steps", fin.step},
            {"stopped_early", fin.stopped_early},
            {"best_epoch", fin.has_best ? nlohmann::json(fin.best_epoch) : nlohmann::json(nullptr)},
            {"restored_best_weights", restored_best_},
            {"final", final_metrics},
            {"test", test},
            {"parameters", ex_.net.param_count()},
            {"train_samples", data_.train.num_samples},
            {"validation_samples", data_.validation ? data_.validation->num_samples : 0},
            {"data_cache", data_cache_notes()},
            {"train_seconds", all_seconds},
            {"samples_per_second", all_seconds > 0 ? all_samples / all_seconds : 0.0},
            {"wall_seconds", wall_seconds},
            {"processes", comm().size()},
            {"communication_seconds", comm().seconds()},
            {"threads", options_.threads},
            {"blas", blas_description()},
            {"batch_shards", ex_.options.batch_shards},
            {"seed", config_.json["seed"]},
            {"paths",
             {{"config", files_.path("config.json")},
              {"metrics", files_.path("metrics.csv")},
              {"steps", files_.path("steps.csv")},
              {"curves", files_.path("curves.svg")},
              {"model", files_.path("model.safetensors")},
              {"best", path_or_null("best.safetensors")},
              {"checkpoint", files_.path("checkpoint.safetensors")},
              {"log", files_.path("train.log")}}}};
  }

  const RunOptions& options_;
  RunHooks& hooks_;
  Config config_;
  Experiment ex_;
  DataBundle data_;
  ModelMetadata meta_;
  LoadedModel checkpoint_;
  nlohmann::json run_files_ = nlohmann::json::object();
  std::unique_ptr<Trainer> trainer_;
  RunDir files_;
  std::optional<EpochMetrics> last_;
  bool restored_best_ = false;
  nlohmann::json test_ = nullptr;
  std::string init_note_;
  static constexpr int kSyncSeconds = 5;
  std::chrono::steady_clock::time_point last_sync_ = std::chrono::steady_clock::now();
};

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

void absolutize_init_from(nlohmann::json& model, const std::string& base_dir) {
  if (!model.contains("init_from") || !model["init_from"].is_string()) return;
  const fs::path p(model["init_from"].get<std::string>());
  if (p.is_relative()) model["init_from"] = fs::absolute(fs::path(base_dir) / p).lexically_normal().string();
}

nlohmann::json run_training(const RunOptions& options, RunHooks& hooks) {
  return TrainingRun(options, hooks).execute();
}

}  // namespace nettrain
