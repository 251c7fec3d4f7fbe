// A run directory's paths and logs; see run_dir.h.
#include "nettrain/run/run_dir.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "nettrain/core/errors.h"

namespace nettrain {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMetricsHeader =
    "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second\n";
constexpr const char* kStepsHeader = "step,epoch,loss\n";

std::uintmax_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

// Cuts `path` back to `keep` bytes when it is longer.
void truncate_to(const std::string& path, std::uintmax_t keep) {
  if (!fs::exists(path) || file_size_or_zero(path) <= keep) return;
  std::error_code ec;
  fs::resize_file(path, keep, ec);
  if (ec) throw IoError(fmt::format("cannot truncate {} to its checkpointed size: {}", path, ec.message()));
}

}  // namespace

std::string RunDir::path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

void RunDir::start_logs() {
  metrics_ = AppendFile(path("metrics.csv"), true);
  steps_ = AppendFile(path("steps.csv"), true);
  metrics_.write(kMetricsHeader);
  steps_.write(kStepsHeader);
  sync();
}

void RunDir::resume_logs(const nlohmann::json& sizes) {
  for (const auto& [name, key] : {std::pair{"metrics.csv", "metrics_bytes"}, std::pair{"steps.csv", "steps_bytes"}})
    if (sizes.is_object() && sizes.contains(key) && sizes[key].is_number_unsigned())
      truncate_to(path(name), sizes[key].get<std::uintmax_t>());
  metrics_ = AppendFile(path("metrics.csv"), false);
  steps_ = AppendFile(path("steps.csv"), false);
}

nlohmann::json RunDir::sizes() const {
  return {{"metrics_bytes", file_size_or_zero(path("metrics.csv"))},
          {"steps_bytes", file_size_or_zero(path("steps.csv"))}};
}

void RunDir::append_step(std::int64_t step, std::int64_t epoch, double loss) {
  steps_.write(fmt::format("{},{},{}\n", step, epoch, csv_number(loss)));
}

void RunDir::append_epoch(const EpochMetrics& m) {
  const auto opt = [](const std::optional<double>& v) { return v ? csv_number(*v) : std::string(); };
  metrics_.write(fmt::format("{},{},{},{},{},{},{},{}\n", m.epoch, csv_number(m.train_loss),
                             csv_number(m.train_accuracy), opt(m.val_loss), opt(m.val_accuracy), csv_number(m.lr),
                             csv_number(m.seconds), csv_number(m.samples_per_second)));
}

void RunDir::write_out() {
  metrics_.flush(false);
  steps_.flush(false);
}

void RunDir::sync() {
  metrics_.flush(true);
  steps_.flush(true);
}

std::string default_run_dir(const std::string& name) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return (fs::path("runs") / (name + "-" + stamp)).string();
}

std::string csv_number(double v) {
  if (std::isnan(v)) return "";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 9);
  return std::string(buf, r.ptr);
}

nlohmann::json json_number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json epoch_json(const EpochMetrics& m) {
  return {{"epoch", m.epoch},
          {"train_loss", json_number(m.train_loss)},
          {"train_accuracy", json_number(m.train_accuracy)},
          {"val_loss", m.val_loss ? json_number(*m.val_loss) : nullptr},
          {"val_accuracy", m.val_accuracy ? json_number(*m.val_accuracy) : nullptr},
          {"lr", m.lr}};
}

}  // namespace nettrain
