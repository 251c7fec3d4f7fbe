// add (y = x0 + x1) and mul (y = x0 ⊙ x1), elementwise on (batch, n). See binary.h.
#include "binary.h"

namespace nettrain {

Shape BinaryLayer::build(const std::vector<Shape>& inputs) {
  require_inputs(inputs, 2);
  if (!(inputs[0] == inputs[1]))
    throw ConfigError("inputs have different shapes: " + inputs[0].str() + " and " + inputs[1].str());
  return inputs[0];
}

std::unique_ptr<Layer> Add::create(const ConfigNode& node) {
  check_layer_keys(node, {});
  return std::make_unique<Add>();
}

void Add::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) { y.noalias() = *x[0] + *x[1]; }

void Add::backward(std::span<const Matrix* const> /*x*/, const Matrix& /*y*/, const Matrix& dy,
                   std::span<Matrix* const> dx) {
  for (Matrix* d : dx)
    if (d != nullptr && d != &dy) *d = dy;
}

std::unique_ptr<Layer> Mul::create(const ConfigNode& node) {
  check_layer_keys(node, {});
  return std::make_unique<Mul>();
}

void Mul::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) {
  y.noalias() = x[0]->cwiseProduct(*x[1]);
}

void Mul::backward(std::span<const Matrix* const> x, const Matrix& /*y*/, const Matrix& dy,
                   std::span<Matrix* const> dx) {
  // dx_i = dy ⊙ x_other; write the gradient that aliases dy (if any) last so dy is read intact.
  const int first = dx[0] == &dy ? 1 : 0;
  for (int k = 0; k < 2; ++k) {
    const int i = k == 0 ? first : 1 - first;
    if (dx[i] != nullptr) *dx[i] = dy.cwiseProduct(*x[1 - i]);
  }
}

}  // namespace nettrain
