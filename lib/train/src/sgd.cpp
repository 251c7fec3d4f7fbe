// sgd; the update is in sgd.h.
#include "sgd.h"

#include "train_common.h"

namespace nettrain {

using namespace train_detail;

Sgd::Sgd(const ConfigNode& cfg) {
  cfg.check_keys({"type", "lr", "momentum", "nesterov", "weight_decay"});
  lr_ = read_positive(cfg, "lr", 0.01);
  momentum_ = static_cast<float>(read_unit_interval(cfg, "momentum", 0.0));
  nesterov_ = cfg.get_bool_or("nesterov", false);
  weight_decay_ = static_cast<float>(read_non_negative(cfg, "weight_decay", 0.0));
  if (nesterov_ && momentum_ <= 0.0f) cfg.fail("nesterov", "nesterov momentum needs \"momentum\" > 0");
}

void Sgd::reset(Index n) {
  velocity_ = momentum_ > 0.0f ? Vector::Zero(n) : Vector();
  t_ = 0;
}

void Sgd::begin_step(Index n, float lr) {
  check_sizes(type(), momentum_ > 0.0f ? velocity_.size() : n, n, n);
  step_lr_ = lr;
  ++t_;
}

void Sgd::update(float* p, const float* grad, Index begin, Index end) {
  const float lr = step_lr_, wd = weight_decay_, mu = momentum_;
  if (mu == 0.0f) {
    // p -= lr·(grad + wd·p)
    for (Index i = begin; i < end; ++i) p[i] -= lr * (grad[i] + wd * p[i]);
    return;
  }
  float* v = velocity_.data();
  if (nesterov_) {
    // g = grad + wd·p;  v = mu·v + g;  p -= lr·(g + mu·v)
    for (Index i = begin; i < end; ++i) {
      const float g = grad[i] + wd * p[i];
      v[i] = mu * v[i] + g;
      p[i] -= lr * (g + mu * v[i]);
    }
  } else {
    // g = grad + wd·p;  v = mu·v + g;  p -= lr·v
    for (Index i = begin; i < end; ++i) {
      v[i] = mu * v[i] + grad[i] + wd * p[i];
      p[i] -= lr * v[i];
    }
  }
}

std::vector<std::pair<std::string, Vector*>> Sgd::state() {
  if (momentum_ == 0.0f) return {};
  return {{"velocity", &velocity_}};
}

}  // namespace nettrain
