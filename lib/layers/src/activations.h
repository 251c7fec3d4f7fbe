// Elementwise activations; output shape = input shape, every matrix (batch, n).
//
//   relu        y = max(x, 0)                       dx = dy ⊙ [x > 0]
//   leaky_relu  y = x if x > 0 else slope·x          dx = dy ⊙ (1 if x > 0 else slope)
//               config "slope" (default 0.01, any finite number)
//   sigmoid     y = 1 / (1 + e^{-x})                dx = dy ⊙ y ⊙ (1 − y)
//   tanh        y = tanh x                          dx = dy ⊙ (1 − y²)
//
// The gradient at the kink x = 0 of relu/leaky_relu is taken from the left (0, resp. slope).
#pragma once

#include <memory>

#include "layer_util.h"

namespace nettrain {

class Relu : public ShapePreservingLayer {
 public:
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "relu"; }
  bool wants_he_init() const override { return true; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
};

class LeakyRelu : public ShapePreservingLayer {
 public:
  explicit LeakyRelu(float slope) : slope_(slope) {}
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "leaky_relu"; }
  bool wants_he_init() const override { return true; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
  std::string describe() const override;
  nlohmann::json settings() const override { return {{"slope", slope_}}; }

 private:
  float slope_;
};

class Sigmoid : public ShapePreservingLayer {
 public:
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "sigmoid"; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
};

class Tanh : public ShapePreservingLayer {
 public:
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "tanh"; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
};

}  // namespace nettrain
