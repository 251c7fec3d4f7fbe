// adagrad; the update is in adagrad.h.
#include "adagrad.h"

#include <cmath>

#include "train_common.h"

namespace nettrain {

using namespace train_detail;

Adagrad::Adagrad(const ConfigNode& cfg) {
  cfg.check_keys({"type", "lr", "eps", "weight_decay"});
  lr_ = read_positive(cfg, "lr", 0.01);
  eps_ = static_cast<float>(read_positive(cfg, "eps", 1e-10));
  weight_decay_ = static_cast<float>(read_non_negative(cfg, "weight_decay", 0.0));
}

void Adagrad::reset(Index n) {
  sum_ = Vector::Zero(n);
  t_ = 0;
}

void Adagrad::begin_step(Index n, float lr) {
  check_sizes(type(), sum_.size(), n, n);
  step_lr_ = lr;
  ++t_;
}

void Adagrad::update(float* p, const float* grad, Index begin, Index end) {
  float* s = sum_.data();
  const float lr = step_lr_, wd = weight_decay_, eps = eps_;
  // g = grad + wd·p;  s += g²;  p -= lr·g / (√s + eps)
  for (Index i = begin; i < end; ++i) {
    const float g = grad[i] + wd * p[i];
    s[i] += g * g;
    p[i] -= lr * g / (std::sqrt(s[i]) + eps);
  }
}

std::vector<std::pair<std::string, Vector*>> Adagrad::state() { return {{"sum", &sum_}}; }

}  // namespace nettrain
