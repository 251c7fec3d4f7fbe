// softmax_cross_entropy: softmax and cross-entropy with class labels, fused (the textbook's
// SoftmaxWithLoss), so the backward pass is the simple and stable (p - onehot) / B.
//
//   z: (B, K) raw scores    y: (B) labels in [0, K)
//   p_ij = exp(z_ij - m_i) / Σ_k exp(z_ik - m_i)          m_i = max_k z_ik (stable for any |z|)
//   L    = (1/B) Σ_i [ m_i + log Σ_k exp(z_ik - m_i) - z_i,y_i ]   (log-sum-exp, in double)
//   dz   = (p - onehot(y)) / B
//   predict: p
#pragma once

#include <cstdint>
#include <vector>

#include "nettrain/core/config_node.h"
#include "nettrain/train/loss.h"

namespace nettrain {

class SoftmaxCrossEntropy final : public Loss {
 public:
  explicit SoftmaxCrossEntropy(const ConfigNode& cfg);
  std::string type() const override { return "softmax_cross_entropy"; }
  bool uses_labels() const override { return true; }
  bool uses_values() const override { return false; }
  Index min_outputs() const override { return 2; }
  double forward(const Matrix& z, const Targets& t) override;
  void backward(Matrix& dz) override;
  void predict(const Matrix& z, Matrix& probs) const override;

 private:
  Matrix probs_;                      // (B, K) softmax of the last forward
  std::vector<std::int32_t> labels_;  // (B) labels of the last forward
};

}  // namespace nettrain
