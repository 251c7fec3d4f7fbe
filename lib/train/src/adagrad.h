// adagrad: per-parameter rates shrinking with the sum of squared gradients (Duchi et al. 2011).
//
//   g  = grad + weight_decay·p             (L2 added to the gradient)
//   s += g²                                (state "sum")
//   p -= lr·g / (√s + eps)
//
// Config: lr (0.01), eps (1e-10), weight_decay (0).
#pragma once

#include "nettrain/core/config_node.h"
#include "nettrain/train/optimizer.h"

namespace nettrain {

class Adagrad final : public Optimizer {
 public:
  explicit Adagrad(const ConfigNode& cfg);
  std::string type() const override { return "adagrad"; }
  double base_lr() const override { return lr_; }
  void reset(Index n) override;
  void begin_step(Index n, float lr) override;
  void update(float* params, const float* grads, Index begin, Index end) override;
  std::vector<std::pair<std::string, Vector*>> state() override;

 private:
  double lr_ = 0.01;
  float eps_ = 1e-10f;
  float weight_decay_ = 0.0f;
  Vector sum_;            // (n) running sum of g²
  float step_lr_ = 0.0f;  // this step's rate (begin_step)
};

}  // namespace nettrain
