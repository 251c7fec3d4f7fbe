// Elementwise math nodes; output shape = input shape; x, y, dy, dx: (batch, n).
//
//   exp    y = a^x = e^{x·ln a}        dx = dy ⊙ y · ln a
//          "base" a > 0 (default e)
//   pow    y = x^n                     dx = dy ⊙ n·x^{n−1}
//          "exponent" n, any finite real (default 2). For a non-integer n the inputs must be
//          > 0 (x^n of a negative x is NaN); for n < 1 the gradient at x = 0 is infinite.
//   scale  y = factor·x + offset       dx = factor·dy   (offset is a constant, not learned)
//          "factor" (default 1), "offset" (default 0)
#pragma once

#include <memory>

#include "layer_util.h"

namespace nettrain {

class Exp : public ShapePreservingLayer {
 public:
  explicit Exp(double base);
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "exp"; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
  std::string describe() const override;
  // ln_base: the float ln a that forward multiplies by.
  nlohmann::json settings() const override { return {{"base", base_}, {"ln_base", log_base_}}; }

 private:
  double base_;
  float log_base_;  // ln a
};

class Pow : public ShapePreservingLayer {
 public:
  explicit Pow(float exponent) : exponent_(exponent) {}
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "pow"; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
  std::string describe() const override;
  nlohmann::json settings() const override { return {{"exponent", exponent_}}; }

 private:
  float exponent_;
};

class Scale : public ShapePreservingLayer {
 public:
  Scale(float factor, float offset) : factor_(factor), offset_(offset) {}
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "scale"; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
  std::string describe() const override;
  nlohmann::json settings() const override { return {{"factor", factor_}, {"offset", offset_}}; }

 private:
  float factor_;
  float offset_;
};

}  // namespace nettrain
