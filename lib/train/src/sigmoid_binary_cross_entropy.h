// sigmoid_binary_cross_entropy: sigmoid and binary cross-entropy, fused, elementwise over the
// outputs (independent yes/no decisions), averaged over batch AND outputs like Keras and PyTorch.
//
//   z, t: (B, K)    σ(z) = 1 / (1 + exp(-z))
//   l_ij = max(z, 0) - z·t + log(1 + exp(-|z|))     = -t·log σ(z) - (1-t)·log(1-σ(z)), stable
//   L    = (1/(B·K)) Σ_ij l_ij                        (in double)
//   dz   = (σ(z) - t) / (B·K)
//   predict: σ(z)
//
// Targets: Targets::values (B, K) with entries in [0, 1] (multi-label), or, when values is null
// and K == 1, Targets::labels with 0/1 per row: binary classification. uses_labels() is true
// because that binary classification is its common use; a trainer that has value targets passes
// them in Targets::values instead.
#pragma once

#include <memory>

#include "nettrain/core/config_node.h"
#include "nettrain/train/loss.h"

namespace nettrain {

class SigmoidBinaryCrossEntropy final : public Loss {
 public:
  explicit SigmoidBinaryCrossEntropy(const ConfigNode& cfg);
  std::unique_ptr<Loss> clone() const override { return std::make_unique<SigmoidBinaryCrossEntropy>(*this); }
  std::string type() const override { return "sigmoid_binary_cross_entropy"; }
  bool uses_labels() const override { return true; }
  bool uses_values() const override { return true; }
  double forward(const Matrix& z, const Targets& t) override;
  void backward(Matrix& dz) override;
  void predict(const Matrix& z, Matrix& probs) const override;

 private:
  Matrix sig_;      // (B, K) σ(z) of the last forward
  Matrix targets_;  // (B, K) targets of the last forward, as floats
};

}  // namespace nettrain
