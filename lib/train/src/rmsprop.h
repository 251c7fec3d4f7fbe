// rmsprop: divides the gradient by a running RMS of recent gradients (Hinton's lecture 6e),
// PyTorch's formulation (eps outside the square root, optional momentum on the scaled step).
//
//   g  = grad + weight_decay·p             (L2 added to the gradient)
//   a  = rho·a + (1 - rho)·g²              (state "square_avg")
//   u  = g / (√a + eps)
//   v  = momentum·v + u; p -= lr·v         (state "velocity", only when momentum > 0)
//   p -= lr·u                              momentum = 0
//
// Config: lr (0.001), rho (0.9, PyTorch calls it alpha), eps (1e-8), momentum (0),
// weight_decay (0).
#pragma once

#include "nettrain/core/config_node.h"
#include "nettrain/train/optimizer.h"

namespace nettrain {

class RmsProp final : public Optimizer {
 public:
  explicit RmsProp(const ConfigNode& cfg);
  std::string type() const override { return "rmsprop"; }
  double base_lr() const override { return lr_; }
  void reset(Index n) override;
  void begin_step(Index n, float lr) override;
  void update(float* params, const float* grads, Index begin, Index end) override;
  std::vector<std::pair<std::string, Vector*>> state() override;

 private:
  double lr_ = 0.001;
  float rho_ = 0.9f;
  float eps_ = 1e-8f;
  float momentum_ = 0.0f;
  float weight_decay_ = 0.0f;
  Vector square_avg_;     // (n) running mean of g²
  Vector velocity_;       // (n) when momentum > 0, else empty
  float step_lr_ = 0.0f;  // this step's rate (begin_step)
};

}  // namespace nettrain
