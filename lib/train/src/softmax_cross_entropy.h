// softmax_cross_entropy: softmax and cross-entropy with class labels, fused (the textbook's
// SoftmaxWithLoss), so the backward pass is the simple and stable (p - q) / B.
//
//   z: (B, K) raw scores    y: (B) labels in [0, K)    ε: label smoothing in [0, 1), default 0
//   q_ij = (1 - ε)·[j = y_i] + ε/K                         the smoothed target
//   p_ij = exp(z_ij - m_i) / Σ_k exp(z_ik - m_i)          m_i = max_k z_ik (stable for any |z|)
//   L    = (1/B) Σ_i [ m_i + log Σ_k exp(z_ik - m_i) - Σ_j q_ij z_ij ]   (log-sum-exp, in double)
//   dz   = (p - q) / B
//   predict: p
// With ε = 0 the target is the one-hot label and every step is the unsmoothed formula's.
#pragma once

#include <memory>

#include <cstdint>
#include <vector>

#include "nettrain/core/config_node.h"
#include "nettrain/train/loss.h"

namespace nettrain {

class SoftmaxCrossEntropy final : public Loss {
 public:
  explicit SoftmaxCrossEntropy(const ConfigNode& cfg);
  std::unique_ptr<Loss> clone() const override { return std::make_unique<SoftmaxCrossEntropy>(*this); }
  std::string type() const override { return "softmax_cross_entropy"; }
  bool uses_labels() const override { return true; }
  bool uses_values() const override { return false; }
  Index min_outputs() const override { return 2; }
  double forward(const Matrix& z, const Targets& t) override;
  void backward(Matrix& dz) override;
  void predict(const Matrix& z, Matrix& probs) const override;
  bool supports_label_smoothing() const override { return true; }
  void set_label_smoothing(double epsilon) override { epsilon_ = epsilon; }

 private:
  double epsilon_ = 0.0;
  Matrix probs_;                      // (B, K) softmax of the last forward
  std::vector<std::int32_t> labels_;  // (B) labels of the last forward
};

}  // namespace nettrain
