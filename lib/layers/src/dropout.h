// Inverted dropout; output shape = input shape.
//
//   x, y, mask, dy, dx: (batch, n)
//   train: mask_ij = 1/(1 − rate) with probability 1 − rate, else 0;  y = x ⊙ mask;  dx = dy ⊙ mask
//   eval:  y = x;  dx = dy
//
// The mask comes from ctx.rng (the network's stream, saved in checkpoints): one next_u64() per
// train-mode forward is the mask's key, and element i of the global batch in row-major order
// (ctx.first_row·n + i on a slice) is kept when Rng::uniform_at(key, i) >= rate. The same mask
// for any thread count, process count or shard split.
// Config: {"type": "dropout", "rate": r}, r in [0, 1), default 0.5.
#pragma once

#include <memory>

#include "layer_util.h"

namespace nettrain {

class Dropout : public ShapePreservingLayer {
 public:
  explicit Dropout(float rate) : rate_(rate) {}
  static std::unique_ptr<Layer> create(const ConfigNode& node);
  std::string type() const override { return "dropout"; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
  std::string describe() const override;

 private:
  float rate_;
  Mode last_mode_ = Mode::train;
  Matrix mask_;  // (batch, n): 0 or 1/(1 − rate), from the last train-mode forward
};

}  // namespace nettrain
