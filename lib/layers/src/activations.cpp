// relu, leaky_relu, sigmoid, tanh: elementwise, (batch, n) -> (batch, n). Formulas in activations.h.
#include "activations.h"

#include <fmt/format.h>

namespace nettrain {

std::unique_ptr<Layer> Relu::create(const ConfigNode& node) {
  check_layer_keys(node, {});
  return std::make_unique<Relu>();
}

void Relu::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) {
  const Matrix& in = *x[0];
  ensure_size(y, in.rows(), in.cols());
  for_flat_ranges(in.size(), [&](Index b, Index e) {
    VectorMap(y.data() + b, e - b) = ConstVectorMap(in.data() + b, e - b).cwiseMax(0.0f);
  });
}

void Relu::backward(std::span<const Matrix* const> x, const Matrix& /*y*/, const Matrix& dy,
                    std::span<Matrix* const> dx) {
  if (dx[0] == nullptr) return;
  ensure_size(*dx[0], dy.rows(), dy.cols());
  const float* in = x[0]->data();
  const float* g = dy.data();
  float* out = dx[0]->data();
  for_flat_ranges(dy.size(), [&](Index b, Index e) {
    VectorMap(out + b, e - b).array() =
        (ConstVectorMap(in + b, e - b).array() > 0.0f).select(ConstVectorMap(g + b, e - b).array(), 0.0f);
  });
}

std::unique_ptr<Layer> LeakyRelu::create(const ConfigNode& node) {
  check_layer_keys(node, {"slope"});
  return std::make_unique<LeakyRelu>(static_cast<float>(node.get_number_or("slope", 0.01)));
}

void LeakyRelu::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) {
  ensure_size(y, x[0]->rows(), x[0]->cols());
  y.array() = (x[0]->array() > 0.0f).select(x[0]->array(), slope_ * x[0]->array());
}

void LeakyRelu::backward(std::span<const Matrix* const> x, const Matrix& /*y*/, const Matrix& dy,
                         std::span<Matrix* const> dx) {
  if (dx[0] == nullptr) return;
  ensure_size(*dx[0], dy.rows(), dy.cols());
  dx[0]->array() = (x[0]->array() > 0.0f).select(dy.array(), slope_ * dy.array());
}

std::string LeakyRelu::describe() const { return fmt::format("slope={:g}", slope_); }

std::unique_ptr<Layer> Sigmoid::create(const ConfigNode& node) {
  check_layer_keys(node, {});
  return std::make_unique<Sigmoid>();
}

void Sigmoid::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) {
  // For x → −∞, e^{-x} overflows to inf and y becomes exactly 0: no NaN.
  ensure_size(y, x[0]->rows(), x[0]->cols());
  y.array() = 1.0f / (1.0f + (-x[0]->array()).exp());
}

void Sigmoid::backward(std::span<const Matrix* const> /*x*/, const Matrix& y, const Matrix& dy,
                       std::span<Matrix* const> dx) {
  if (dx[0] == nullptr) return;
  ensure_size(*dx[0], dy.rows(), dy.cols());
  dx[0]->array() = dy.array() * y.array() * (1.0f - y.array());
}

std::unique_ptr<Layer> Tanh::create(const ConfigNode& node) {
  check_layer_keys(node, {});
  return std::make_unique<Tanh>();
}

void Tanh::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) {
  ensure_size(y, x[0]->rows(), x[0]->cols());
  y.array() = x[0]->array().tanh();
}

void Tanh::backward(std::span<const Matrix* const> /*x*/, const Matrix& y, const Matrix& dy,
                    std::span<Matrix* const> dx) {
  if (dx[0] == nullptr) return;
  ensure_size(*dx[0], dy.rows(), dy.cols());
  dx[0]->array() = dy.array() * (1.0f - y.array().square());
}

}  // namespace nettrain
