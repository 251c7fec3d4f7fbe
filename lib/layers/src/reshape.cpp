// flatten and global_avg_pool; formulas in reshape.h.
#include "reshape.h"

#include "window.h"

namespace nettrain {

std::unique_ptr<Layer> Flatten::create(const ConfigNode& node) {
  check_layer_keys(node, {});
  return std::make_unique<Flatten>();
}

Shape Flatten::build(const std::vector<Shape>& inputs) {
  require_inputs(inputs, 1);
  return Shape{inputs[0].size()};
}

void Flatten::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) {
  y = *x[0];  // same size after the first batch: no allocation
}

void Flatten::backward(std::span<const Matrix* const> /*x*/, const Matrix& /*y*/, const Matrix& dy,
                       std::span<Matrix* const> dx) {
  if (dx[0] != nullptr) *dx[0] = dy;
}

std::unique_ptr<Layer> GlobalAvgPool::create(const ConfigNode& node) {
  check_layer_keys(node, {});
  return std::make_unique<GlobalAvgPool>();
}

Shape GlobalAvgPool::build(const std::vector<Shape>& inputs) {
  require_inputs(inputs, 1);
  require_chw(inputs[0]);
  C_ = inputs[0][0];
  S_ = inputs[0][1] * inputs[0][2];
  return Shape{C_};
}

void GlobalAvgPool::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) {
  const Matrix& in = *x[0];
  ensure_size(y, in.rows(), C_);
  const float inv = 1.0f / static_cast<float>(S_);
  for (Index c = 0; c < C_; ++c) y.col(c) = in.middleCols(c * S_, S_).rowwise().sum() * inv;
}

void GlobalAvgPool::backward(std::span<const Matrix* const> /*x*/, const Matrix& /*y*/, const Matrix& dy,
                             std::span<Matrix* const> dx) {
  if (dx[0] == nullptr) return;
  ensure_size(*dx[0], dy.rows(), C_ * S_);
  const float inv = 1.0f / static_cast<float>(S_);
  for (Index c = 0; c < C_; ++c) dx[0]->middleCols(c * S_, S_).colwise() = dy.col(c) * inv;
}

}  // namespace nettrain
