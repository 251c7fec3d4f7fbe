// reduce_on_plateau; the rule is in reduce_on_plateau.h.
#include "reduce_on_plateau.h"

#include <algorithm>
#include <cmath>

#include "nettrain/core/errors.h"
#include "train_common.h"

namespace nettrain {

using namespace train_detail;

ReduceOnPlateau::ReduceOnPlateau(const ConfigNode& cfg) {
  cfg.check_keys({"type", "factor", "patience", "min_lr", "threshold"});
  factor_ = read_positive(cfg, "factor", 0.1);
  if (factor_ >= 1.0) cfg.fail("factor", "expected a number in (0, 1), got " + std::to_string(factor_));
  patience_ = cfg.get_positive_int_or("patience", 2);
  min_lr_ = read_non_negative(cfg, "min_lr", 0.0);
  threshold_ = read_non_negative(cfg, "threshold", 1e-4);
}

double ReduceOnPlateau::lr(std::int64_t, std::int64_t) const {
  const double base = info_.base_lr;
  return std::max(base * scale_, std::min(min_lr_, base));
}

void ReduceOnPlateau::on_epoch_end(std::int64_t, double metric) {
  // NaN compares false: a NaN metric counts as no improvement.
  if (!has_best_ ? !std::isnan(metric) : metric < best_ * (1.0 - threshold_)) {
    has_best_ = true;
    best_ = metric;
    bad_epochs_ = 0;
    return;
  }
  if (++bad_epochs_ >= patience_) {
    scale_ *= factor_;
    bad_epochs_ = 0;
  }
}

std::map<std::string, double> ReduceOnPlateau::state() const {
  return {{"best", has_best_ ? best_ : 0.0},
          {"has_best", has_best_ ? 1.0 : 0.0},
          {"bad_epochs", static_cast<double>(bad_epochs_)},
          {"scale", scale_}};
}

void ReduceOnPlateau::set_state(const std::map<std::string, double>& s) {
  for (const char* key : {"best", "has_best", "bad_epochs", "scale"})
    if (s.count(key) == 0) throw ModelFileError("reduce_on_plateau state: missing \"" + std::string(key) + "\"");
  best_ = s.at("best");
  has_best_ = s.at("has_best") != 0.0;
  bad_epochs_ = static_cast<std::int64_t>(s.at("bad_epochs"));
  scale_ = s.at("scale");
}

}  // namespace nettrain
