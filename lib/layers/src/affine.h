// Affine (fully connected) layer, the textbook's y = x·W + b.
//
//   x: (batch, in)   W: (in, out), saved as {in, out}   b: (1, out)   y: (batch, out)
//   y  = x·W + b
//   dW += xᵀ·dy      db += sum over rows of dy      dx = dy·Wᵀ
//   (dW and db assigned instead of added in a backward after assign_grads(true))
//
// An input of any shape is flattened: in = input_shape.size().
// Config: {"type": "affine", "units": N, "init": "...", "std": s, "bias": true}
//   units  required positive integer
//   init   xavier_uniform | xavier_normal | he_uniform | he_normal | normal | zeros; when absent,
//          xavier_uniform, or he_normal when the next layer is relu/leaky_relu
//   std    standard deviation for init "normal" (default 0.01); only allowed with that init
//   bias   whether to learn b (default true)
#pragma once

#include <memory>

#include "layer_util.h"

namespace nettrain {

class Affine : public WeightedLayer {
 public:
  Affine(Index units, WeightInit init) : WeightedLayer(std::move(init)), out_(units) {}
  static std::unique_ptr<Layer> create(const ConfigNode& node);

  std::string type() const override { return "affine"; }
  Shape build(const std::vector<Shape>& inputs) override;
  std::vector<TensorSpec> parameters() const override;
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
  std::string describe() const override;
  bool fuse_relu_output() override { return relu_ = true; }
  bool assign_grads(bool assign) override { return assign_grads_ = assign; }

 private:
  void shard_grads(const Matrix& x, const Matrix& dy);

  Index in_ = 0;
  Index out_;
  bool relu_ = false;          // forward writes relu(x·W + b) (fuse_relu_output)
  bool assign_grads_ = false;  // the next backward writes dW and db instead of adding (assign_grads)
  // W_, dW_: (in, out); b_, db_: (1, out)
  Matrix dW_parts_, db_parts_;  // (shards, in·out), (shards, out): per-shard gradients
};

}  // namespace nettrain
