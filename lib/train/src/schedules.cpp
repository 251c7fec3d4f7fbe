// constant, step, exponential and cosine schedules; the formulas are in schedules.h.
#include "schedules.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "train_common.h"

namespace nettrain {

using namespace train_detail;

namespace {

// A decay factor in (0, 1]: above 1 the rate would grow.
double read_gamma(const ConfigNode& cfg, double fallback) {
  const double g = read_positive(cfg, "gamma", fallback);
  cfg.check_range("gamma", g, 0.0, 1.0);
  return g;
}

}  // namespace

ConstantSchedule::ConstantSchedule(const ConfigNode& cfg) { cfg.check_keys({"type"}); }

double ConstantSchedule::lr(std::int64_t, std::int64_t) const { return info_.base_lr; }

StepSchedule::StepSchedule(const ConfigNode& cfg) {
  cfg.check_keys({"type", "step_size", "gamma"});
  step_size_ = cfg.get_positive_int("step_size");
  gamma_ = read_gamma(cfg, 0.1);
}

double StepSchedule::lr(std::int64_t epoch, std::int64_t) const {
  return info_.base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

ExponentialSchedule::ExponentialSchedule(const ConfigNode& cfg) {
  cfg.check_keys({"type", "gamma"});
  gamma_ = read_gamma(cfg, 0.95);
}

double ExponentialSchedule::lr(std::int64_t epoch, std::int64_t) const {
  return info_.base_lr * std::pow(gamma_, static_cast<double>(epoch));
}

CosineSchedule::CosineSchedule(const ConfigNode& cfg) {
  cfg.check_keys({"type", "min_lr", "warmup_epochs"});
  min_lr_ = read_non_negative(cfg, "min_lr", 0.0);
  warmup_epochs_ = cfg.get_int_or("warmup_epochs", 0);
  if (warmup_epochs_ < 0) cfg.fail("warmup_epochs", "expected an integer >= 0, got " + std::to_string(warmup_epochs_));
}

double CosineSchedule::lr(std::int64_t, std::int64_t step) const {
  const std::int64_t warmup = warmup_epochs_ * info_.steps_per_epoch;
  const std::int64_t total = info_.total_epochs * info_.steps_per_epoch;
  if (step < warmup) return info_.base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  // A warmup as long as the run leaves no cosine part: max(1, ...) keeps q defined.
  const double span = static_cast<double>(std::max<std::int64_t>(1, total - warmup));
  const double q = std::min(1.0, static_cast<double>(step - warmup) / span);
  return min_lr_ + (info_.base_lr - min_lr_) * 0.5 * (1.0 + std::cos(std::numbers::pi * q));
}

}  // namespace nettrain
