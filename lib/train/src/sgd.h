// sgd: stochastic gradient descent with optional (Nesterov) momentum, PyTorch's formulation.
//
//   g  = grad + weight_decay·p             (L2 added to the gradient)
//   v  = momentum·v + g                    (state "velocity", only when momentum > 0)
//   p -= lr·v                              plain momentum
//   p -= lr·(g + momentum·v)               nesterov
//   p -= lr·g                              momentum = 0
//
// Config: lr (0.01), momentum (0, in [0, 1)), nesterov (false; needs momentum > 0),
// weight_decay (0).
#pragma once

#include "nettrain/core/config_node.h"
#include "nettrain/train/optimizer.h"

namespace nettrain {

class Sgd final : public Optimizer {
 public:
  explicit Sgd(const ConfigNode& cfg);
  std::string type() const override { return "sgd"; }
  double base_lr() const override { return lr_; }
  void reset(Index n) override;
  void begin_step(Index n, float lr) override;
  void update(float* params, const float* grads, Index begin, Index end) override;
  std::vector<std::pair<std::string, Vector*>> state() override;

 private:
  double lr_ = 0.01;
  float momentum_ = 0.0f;
  bool nesterov_ = false;
  float weight_decay_ = 0.0f;
  Vector velocity_;       // (n) when momentum > 0, else empty
  float step_lr_ = 0.0f;  // this step's rate (begin_step)
};

}  // namespace nettrain
