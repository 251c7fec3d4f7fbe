// The stateless learning-rate schedules. base = ScheduleInfo::base_lr (the optimizer's lr),
// e = epoch (0-based), s = step (0-based, over the whole run), S = steps_per_epoch.
//
//   constant      lr = base
//   step          lr = base·gamma^⌊e / step_size⌋                   per epoch
//   exponential   lr = base·gamma^e                                  per epoch
//   cosine        per step, over T = total_epochs·S steps, after W = warmup_epochs·S steps of
//                 linear warmup:
//                   s <  W:  lr = base·(s + 1) / W       (the first step already moves; the last
//                                                         warmup step uses base)
//                   s >= W:  lr = min_lr + (base - min_lr)·(1 + cos(π·q)) / 2,
//                            q = min(1, (s - W) / (T - W))
//
// Config: step: step_size (required, epochs), gamma (0.1); exponential: gamma (0.95);
// cosine: min_lr (0), warmup_epochs (0). Only cosine has a warmup.
#pragma once

#include "nettrain/core/config_node.h"
#include "nettrain/train/schedule.h"

namespace nettrain {

class ConstantSchedule final : public Schedule {
 public:
  explicit ConstantSchedule(const ConfigNode& cfg);
  std::string type() const override { return "constant"; }
  double lr(std::int64_t epoch, std::int64_t step) const override;
};

class StepSchedule final : public Schedule {
 public:
  explicit StepSchedule(const ConfigNode& cfg);
  std::string type() const override { return "step"; }
  double lr(std::int64_t epoch, std::int64_t step) const override;

 private:
  std::int64_t step_size_ = 1;
  double gamma_ = 0.1;
};

class ExponentialSchedule final : public Schedule {
 public:
  explicit ExponentialSchedule(const ConfigNode& cfg);
  std::string type() const override { return "exponential"; }
  double lr(std::int64_t epoch, std::int64_t step) const override;

 private:
  double gamma_ = 0.95;
};

class CosineSchedule final : public Schedule {
 public:
  explicit CosineSchedule(const ConfigNode& cfg);
  std::string type() const override { return "cosine"; }
  double lr(std::int64_t epoch, std::int64_t step) const override;

 private:
  double min_lr_ = 0.0;
  std::int64_t warmup_epochs_ = 0;
};

}  // namespace nettrain
