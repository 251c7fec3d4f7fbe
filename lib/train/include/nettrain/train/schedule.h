// Learning-rate schedules. The trainer asks for the rate before every step; reduce_on_plateau
// also hears the monitored metric at the end of every epoch. All state is a handful of numbers,
// saved and restored exactly by checkpoints.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace nettrain {

struct ScheduleInfo {
  double base_lr = 0.01;  // the optimizer's lr
  std::int64_t steps_per_epoch = 1;
  std::int64_t total_epochs = 1;
};

class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual std::string type() const = 0;
  virtual void configure(const ScheduleInfo& info) { info_ = info; }
  // The rate for the step `step` (0-based, counted over the whole run) within `epoch` (0-based).
  virtual double lr(std::int64_t epoch, std::int64_t step) const = 0;
  // End of epoch hook (0-based epoch) with the monitored metric (lower is better).
  virtual void on_epoch_end(std::int64_t /*epoch*/, double /*metric*/) {}
  // Saveable state (empty for stateless schedules).
  virtual std::map<std::string, double> state() const { return {}; }
  virtual void set_state(const std::map<std::string, double>& /*s*/) {}

 protected:
  ScheduleInfo info_;
};

}  // namespace nettrain
