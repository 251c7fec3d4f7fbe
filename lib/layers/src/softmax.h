// Softmax over each row (sample); output shape = input shape.
//
//   x, y, dy, dx: (batch, n)
//   y_ij = e^{x_ij − max_k x_ik} / Σ_k e^{x_ik − max_k x_ik}   (shifted by the row max: no overflow)
//   dx   = y ⊙ (dy − rowsum(dy ⊙ y))                       (the full Jacobian-vector product)
#pragma once

#include <memory>

#include "layer_util.h"

namespace nettrain {

class Softmax : public ShapePreservingLayer {
 public:
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "softmax"; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
};

}  // namespace nettrain
