// nettrain train CONFIG: wires the run to the terminal (progress bar or per-epoch lines, the
// train.log sink, Ctrl-C) and prints the summary.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "nettrain/data/data.h"
#include "log.h"
#include "nettrain/core/errors.h"
#include "nettrain/report/report.h"
#include "nettrain/run/run.h"
#include "progress.h"
#include "threads.h"

namespace nettrain::app {

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) { g_signal.store(sig); }

std::string fmt_metric(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", *v);
  return buf;
}

// The run's outcome on stderr, once: where it went, the test result, the curves.
void print_outcome(const nlohmann::json& summary) {
  std::fprintf(stderr, "done: %s\n", summary.value("run_dir", "").c_str());
  const auto& test = summary.value("test", nlohmann::json());
  if (test.is_object()) {
    const auto& acc = test["accuracy"];
    std::fprintf(stderr, "test: loss %.4f%s\n", test["loss"].is_number() ? test["loss"].get<double>() : NAN,
                 acc.is_number() ? fmt::format(", accuracy {:.4f}", acc.get<double>()).c_str() : "");
  }
  if (summary.contains("paths") && summary["paths"].contains("curves"))
    std::fprintf(stderr, "curves: %s\n", summary["paths"]["curves"].get<std::string>().c_str());
}

}  // namespace

int cmd_train(const GlobalOptions& g, const TrainArgs& a) {
  set_data_cache(!a.no_cache);
  RunOptions options;
  options.config_path = a.config;
  options.overrides = a.overrides;
  options.out_dir = a.out;
  options.resume_dir = a.resume;
  options.seed = a.seed;
  options.threads = use_threads(a.threads);
  options.command_line = a.command_line;
  options.collective = g.world;
  const bool rank0 = g.world == nullptr || g.world->rank() == 0;

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  const bool bar_on = !g.quiet && stderr_is_tty();
  std::int64_t epochs = 0, batch_size = 0;
  std::unique_ptr<ProgressBar> bar;
  std::string run_dir;

  RunHooks hooks;
  hooks.log = [&](const std::string& m) {
    if (bar) bar->clear();
    spdlog::info("{}", m);
  };
  hooks.on_run_dir = [&](const std::string& dir, const Config& config, const Network& net) {
    run_dir = dir;
    add_log_file((std::filesystem::path(dir) / "train.log").string());
    epochs = config.json["training"]["epochs"].get<std::int64_t>();
    batch_size = config.json["training"]["batch_size"].get<std::int64_t>();
    bar = std::make_unique<ProgressBar>(bar_on, epochs);
    const int processes = g.world ? g.world->size() : 1;
    spdlog::info("run {}: {} parameters, {}{} threads, run directory {}", config.json["name"].get<std::string>(),
                 net.param_count(), processes > 1 ? fmt::format("{} processes × ", processes) : "", options.threads,
                 dir);
  };
  hooks.train.on_step = [&](std::int64_t epoch, std::int64_t batch, std::int64_t batches, double loss, double accuracy,
                            double sps) {
    if (bar) bar->update(epoch, batch, batches, loss, accuracy, sps, batch_size);
  };
  hooks.train.on_epoch_end = [&](const EpochMetrics& m, bool improved) {
    if (bar) bar->clear();
    spdlog::info("epoch {}/{}: loss {:.4f} acc {} | val_loss {} val_acc {} | lr {:.3g} | {:.2f}s {:.0f} samples/s{}",
                 m.epoch, epochs, m.train_loss,
                 fmt_metric(std::isnan(m.train_accuracy) ? std::nullopt : std::optional<double>(m.train_accuracy)),
                 fmt_metric(m.val_loss), fmt_metric(m.val_accuracy), m.lr, m.seconds, m.samples_per_second,
                 improved && m.val_loss ? " (best so far)" : "");
  };
  hooks.train.should_stop = [&]() { return g_signal.load() != 0; };

  nlohmann::json summary;
  try {
    summary = run_training(options, hooks);
  } catch (const TrainingError& e) {
    if (bar) bar->clear();
    // Ctrl-C on mpirun reaches the ranks as SIGTERM or SIGINT on some of them: all stopped at the
    // same step (trainer.h), and rank 0 says how to go on.
    if (std::string(e.what()).starts_with("interrupted") && !run_dir.empty())
      spdlog::warn("interrupted; resume with: nettrain train --resume {}", run_dir);
    throw;
  } catch (...) {
    if (bar) bar->clear();
    if (g_signal.load() != 0 && !run_dir.empty())
      spdlog::warn("interrupted; resume with: nettrain train --resume {}", run_dir);
    throw;
  }
  if (bar) bar->clear();
  remove_log_file();
  if (!rank0) return 0;
  // report.html comes after the run is complete. When it cannot be written the summary is still
  // printed, then the failure is an I/O error (exit 5) that says the run itself is complete.
  std::string report_failure;
  try {
    report::write_run_report(summary["run_dir"].get<std::string>());
  } catch (const Error& e) {
    report_failure = e.what();
  }
  if (g.json) {
    std::printf("%s\n", summary.dump(2).c_str());
  } else if (!g.quiet) {
    print_outcome(summary);
    if (report_failure.empty())
      std::fprintf(stderr, "report: %s/report.html\n", summary["run_dir"].get<std::string>().c_str());
  }
  if (!report_failure.empty())
    throw IoError("the run in " + summary["run_dir"].get<std::string>() +
                  " is complete, but its report.html was not written: " + report_failure +
                  "; write it with: nettrain report " + summary["run_dir"].get<std::string>());
  return 0;
}

}  // namespace nettrain::app
