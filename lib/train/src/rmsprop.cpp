// rmsprop; the update is in rmsprop.h.
#include "rmsprop.h"

#include <cmath>

#include "train_common.h"

namespace nettrain {

using namespace train_detail;

RmsProp::RmsProp(const ConfigNode& cfg) {
  cfg.check_keys({"type", "lr", "rho", "eps", "momentum", "weight_decay"});
  lr_ = read_positive(cfg, "lr", 0.001);
  rho_ = static_cast<float>(read_unit_interval(cfg, "rho", 0.9));
  eps_ = static_cast<float>(read_positive(cfg, "eps", 1e-8));
  momentum_ = static_cast<float>(read_unit_interval(cfg, "momentum", 0.0));
  weight_decay_ = static_cast<float>(read_non_negative(cfg, "weight_decay", 0.0));
}

void RmsProp::reset(Index n) {
  square_avg_ = Vector::Zero(n);
  velocity_ = momentum_ > 0.0f ? Vector::Zero(n) : Vector();
  t_ = 0;
}

void RmsProp::begin_step(Index n, float lr) {
  check_sizes(type(), square_avg_.size(), n, n);
  if (momentum_ > 0.0f) check_sizes(type(), velocity_.size(), n, n);
  step_lr_ = lr;
  ++t_;
}

void RmsProp::update(float* p, const float* grad, Index begin, Index end) {
  float* a = square_avg_.data();
  const float lr = step_lr_, rho = rho_, eps = eps_, wd = weight_decay_, mu = momentum_;
  if (mu == 0.0f) {
    // g = grad + wd·p;  a = rho·a + (1-rho)·g²;  p -= lr·g / (√a + eps)
    for (Index i = begin; i < end; ++i) {
      const float g = grad[i] + wd * p[i];
      a[i] = rho * a[i] + (1.0f - rho) * g * g;
      p[i] -= lr * g / (std::sqrt(a[i]) + eps);
    }
    return;
  }
  float* v = velocity_.data();
  // g = grad + wd·p;  a = rho·a + (1-rho)·g²;  v = mu·v + g / (√a + eps);  p -= lr·v
  for (Index i = begin; i < end; ++i) {
    const float g = grad[i] + wd * p[i];
    a[i] = rho * a[i] + (1.0f - rho) * g * g;
    v[i] = mu * v[i] + g / (std::sqrt(a[i]) + eps);
    p[i] -= lr * v[i];
  }
}

std::vector<std::pair<std::string, Vector*>> RmsProp::state() {
  if (momentum_ == 0.0f) return {{"square_avg", &square_avg_}};
  return {{"square_avg", &square_avg_}, {"velocity", &velocity_}};
}

}  // namespace nettrain
