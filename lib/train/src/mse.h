// mse: mean squared error for regression, one or several targets per sample, averaged over the
// batch AND the outputs (Keras' and PyTorch's default reduction).
//
//   z, t: (B, K)
//   L  = (1/(B·K)) Σ_ij (z_ij - t_ij)²      (in double)
//   dz = 2·(z - t) / (B·K)
//   predict: z (identity)
#pragma once

#include <memory>

#include "nettrain/core/config_node.h"
#include "nettrain/train/loss.h"

namespace nettrain {

class Mse final : public Loss {
 public:
  explicit Mse(const ConfigNode& cfg);
  std::unique_ptr<Loss> clone() const override { return std::make_unique<Mse>(*this); }
  std::string type() const override { return "mse"; }
  bool uses_labels() const override { return false; }
  bool uses_values() const override { return true; }
  double forward(const Matrix& z, const Targets& t) override;
  void backward(Matrix& dz) override;
  void predict(const Matrix& z, Matrix& probs) const override;

 private:
  Matrix diff_;  // (B, K) z - t of the last forward
};

}  // namespace nettrain
