// Two-input elementwise graph nodes (residual sums, gating). Both inputs must have the same
// shape; the output has that shape.
//
//   x0, x1, y, dy, dx0, dx1: (batch, n)
//   add  y = x0 + x1     dx0 = dy            dx1 = dy
//   mul  y = x0 ⊙ x1     dx0 = dy ⊙ x1       dx1 = dy ⊙ x0
//
// The same matrix may arrive as both inputs (y = x ⊙ x): dx0 and dx1 are then two separate
// buffers that the network sums, giving 2·x ⊙ dy. Either dx may alias dy.
#pragma once

#include <memory>

#include "layer_util.h"

namespace nettrain {

class BinaryLayer : public Layer {
 public:
  bool replicable() const override { return true; }
  std::size_t arity() const override { return 2; }
  Shape build(const std::vector<Shape>& inputs) override;
};

class Add : public BinaryLayer {
 public:
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "add"; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
};

class Mul : public BinaryLayer {
 public:
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "mul"; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
};

}  // namespace nettrain
