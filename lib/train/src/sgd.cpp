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

void Sgd::step(VectorMap params, ConstVectorMap grads, float lr) {
  const Index n = params.size();
  float* p = params.data();
  const float* grad = grads.data();
  const float wd = weight_decay_, mu = momentum_;
  ++t_;
  if (mu == 0.0f) {
    check_sizes(type(), n, n, grads.size());
    // p -= lr·(grad + wd·p)
    for_each_element(n, [&](Index i) { p[i] -= lr * (grad[i] + wd * p[i]); });
    return;
  }
  check_sizes(type(), velocity_.size(), n, grads.size());
  float* v = velocity_.data();
  if (nesterov_) {
    // g = grad + wd·p;  v = mu·v + g;  p -= lr·(g + mu·v)
    for_each_element(n, [&](Index i) {
      const float g = grad[i] + wd * p[i];
      v[i] = mu * v[i] + g;
      p[i] -= lr * (g + mu * v[i]);
    });
  } else {
    // g = grad + wd·p;  v = mu·v + g;  p -= lr·v
    for_each_element(n, [&](Index i) {
      v[i] = mu * v[i] + grad[i] + wd * p[i];
      p[i] -= lr * v[i];
    });
  }
}

std::vector<std::pair<std::string, Vector*>> Sgd::state() {
  if (momentum_ == 0.0f) return {};
  return {{"velocity", &velocity_}};
}

}  // namespace nettrain
