// adam and adamw (Kingma & Ba 2015; Loshchilov & Hutter 2019), PyTorch's formulation.
//
//   t += 1
//   g  = grad + weight_decay·p              adam: L2 added to the gradient
//   p -= lr·weight_decay·p                  adamw: decoupled decay instead (g = grad)
//   m  = β1·m + (1 - β1)·g                  (state "m")
//   v  = β2·v + (1 - β2)·g²                 (state "v")
//   m̂  = m / (1 - β1ᵗ),  v̂ = v / (1 - β2ᵗ)  (bias correction; factors in double)
//   p -= lr·m̂ / (√v̂ + eps)
//
// Config: lr (0.001), beta1 (0.9), beta2 (0.999), eps (1e-8), weight_decay (adam 0, adamw 0.01).
#pragma once

#include "nettrain/core/config_node.h"
#include "nettrain/train/optimizer.h"

namespace nettrain {

class Adam final : public Optimizer {
 public:
  enum class Decay { l2, decoupled };  // adam, adamw
  Adam(const ConfigNode& cfg, Decay decay);
  std::string type() const override { return decay_ == Decay::l2 ? "adam" : "adamw"; }
  double base_lr() const override { return lr_; }
  void reset(Index n) override;
  void begin_step(Index n, float lr) override;
  void update(float* params, const float* grads, Index begin, Index end) override;
  std::vector<std::pair<std::string, Vector*>> state() override;

 private:
  Decay decay_;
  double lr_ = 0.001;
  double beta1_ = 0.9, beta2_ = 0.999;
  float eps_ = 1e-8f;
  float weight_decay_ = 0.0f;
  Vector m_;  // (n) first moment
  Vector v_;  // (n) second moment
  // This step's constants (begin_step): lr/bc1, 1/√bc2, and the decoupled decay's factor.
  float step_size_ = 0.0f, inv_sqrt_bc2_ = 1.0f, keep_ = 1.0f;
};

}  // namespace nettrain
