// adam and adamw; the update is in adam.h.
#include "adam.h"

#include <cmath>

#include "train_common.h"

namespace nettrain {

using namespace train_detail;

Adam::Adam(const ConfigNode& cfg, Decay decay) : decay_(decay) {
  cfg.check_keys({"type", "lr", "beta1", "beta2", "eps", "weight_decay"});
  lr_ = read_positive(cfg, "lr", 0.001);
  beta1_ = read_unit_interval(cfg, "beta1", 0.9);
  beta2_ = read_unit_interval(cfg, "beta2", 0.999);
  eps_ = static_cast<float>(read_positive(cfg, "eps", 1e-8));
  weight_decay_ = static_cast<float>(read_non_negative(cfg, "weight_decay", decay == Decay::decoupled ? 0.01 : 0.0));
}

void Adam::reset(Index n) {
  m_ = Vector::Zero(n);
  v_ = Vector::Zero(n);
  t_ = 0;
}

void Adam::begin_step(Index n, float lr) {
  check_sizes(type(), m_.size(), n, n);
  ++t_;
  const double bc1 = 1.0 - std::pow(beta1_, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(beta2_, static_cast<double>(t_));
  // lr·m̂ / (√v̂ + eps) = (lr/bc1)·m / (√v·(1/√bc2) + eps)
  step_size_ = static_cast<float>(lr / bc1);
  inv_sqrt_bc2_ = static_cast<float>(1.0 / std::sqrt(bc2));
  // adam: g = grad + wd·p, keep = 1;  adamw: g = grad, keep = 1 - lr·wd.
  keep_ = decay_ == Decay::decoupled ? 1.0f - lr * weight_decay_ : 1.0f;
}

void Adam::update(float* p, const float* grad, Index begin, Index end) {
  const float b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_);
  const float one_m_b1 = static_cast<float>(1.0 - beta1_), one_m_b2 = static_cast<float>(1.0 - beta2_);
  const float l2 = decay_ == Decay::l2 ? weight_decay_ : 0.0f;
  const float keep = keep_, step_size = step_size_, inv_sqrt_bc2 = inv_sqrt_bc2_, eps = eps_;
  // The four arrays never overlap: restrict lets the loop vectorise without runtime checks.
  float* __restrict m = m_.data();
  float* __restrict v = v_.data();
  float* __restrict param = p;
  const float* __restrict g_in = grad;
  // g = grad + l2·p;  m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;
  // p = keep·p - step_size·m / (√v·inv_sqrt_bc2 + eps)
  for (Index i = begin; i < end; ++i) {
    const float g = g_in[i] + l2 * param[i];
    m[i] = b1 * m[i] + one_m_b1 * g;
    v[i] = b2 * v[i] + one_m_b2 * g * g;
    param[i] = keep * param[i] - step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
  }
}

std::vector<std::pair<std::string, Vector*>> Adam::state() { return {{"m", &m_}, {"v", &v_}}; }

}  // namespace nettrain
