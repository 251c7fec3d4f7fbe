// reduce_on_plateau: multiplies the rate by `factor` when the monitored metric (lower is better)
// has not improved for `patience` epochs in a row (Keras' ReduceLROnPlateau counting), with
// PyTorch's relative threshold:
//
//   improved    metric < best·(1 - threshold)            (the first metric always improves)
//   on improvement: best = metric, bad_epochs = 0; else bad_epochs += 1
//   bad_epochs == patience:  scale *= factor, bad_epochs = 0
//   lr = max(base·scale, min(min_lr, base))              (never below min_lr, never raised)
//
// The rate changes between epochs only. State ("best", "has_best", "bad_epochs", "scale") is
// all finite numbers, so checkpoints can store it as JSON.
//
// Config: factor (0.1, in (0, 1)), patience (2 epochs, >= 1), min_lr (0), threshold (1e-4).
#pragma once

#include "nettrain/core/config_node.h"
#include "nettrain/train/schedule.h"

namespace nettrain {

class ReduceOnPlateau final : public Schedule {
 public:
  explicit ReduceOnPlateau(const ConfigNode& cfg);
  std::string type() const override { return "reduce_on_plateau"; }
  double lr(std::int64_t epoch, std::int64_t step) const override;
  void on_epoch_end(std::int64_t epoch, double metric) override;
  std::map<std::string, double> state() const override;
  void set_state(const std::map<std::string, double>& s) override;

 private:
  double factor_ = 0.1;
  std::int64_t patience_ = 2;
  double min_lr_ = 0.0;
  double threshold_ = 1e-4;

  bool has_best_ = false;  // false until the first metric
  double best_ = 0.0;
  std::int64_t bad_epochs_ = 0;
  double scale_ = 1.0;  // lr = base·scale
};

}  // namespace nettrain
