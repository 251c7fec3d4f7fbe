// Layers that change the shape of a sample without learning anything.
//
// flatten:          [C, H, W] (any shape) → [C·H·W]. The batch layout is already flat, so y = x
//                   and dx = dy; the new shape lets a following affine see a rank-1 input.
// global_avg_pool:  [C, H, W] → [C], S = H·W
//                   y[n, c] = (1/S)·Σ_s x[n, c·S + s]      dx[n, c·S + s] = dy[n, c] / S
// Config: {"type": "flatten"}, {"type": "global_avg_pool"}; no keys of their own.
#pragma once

#include <memory>

#include "layer_util.h"

namespace nettrain {

class Flatten : public Layer {
 public:
  bool replicable() const override { return true; }
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "flatten"; }
  Shape build(const std::vector<Shape>& inputs) override;
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
};

class GlobalAvgPool : public Layer {
 public:
  bool replicable() const override { return true; }
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "global_avg_pool"; }
  Shape build(const std::vector<Shape>& inputs) override;
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;

 private:
  Index C_ = 0, S_ = 1;
};

}  // namespace nettrain
