// Row-wise softmax, (batch, n) -> (batch, n); y = e^{x − max} / Σ e^{x − max}. See softmax.h.
#include "softmax.h"

namespace nettrain {

std::unique_ptr<Layer> Softmax::create(const ConfigNode& node) {
  check_layer_keys(node, {});
  return std::make_unique<Softmax>();
}

void Softmax::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) {
  const Matrix& in = *x[0];
  ensure_size(y, in.rows(), in.cols());
  for (Index r = 0; r < in.rows(); ++r) {
    const float m = in.row(r).maxCoeff();
    y.row(r).array() = (in.row(r).array() - m).exp();
    y.row(r) /= y.row(r).sum();
  }
}

void Softmax::backward(std::span<const Matrix* const> /*x*/, const Matrix& y, const Matrix& dy,
                       std::span<Matrix* const> dx) {
  if (dx[0] == nullptr) return;
  ensure_size(*dx[0], dy.rows(), dy.cols());
  for (Index r = 0; r < dy.rows(); ++r) {
    const float s = dy.row(r).dot(y.row(r));
    dx[0]->row(r).array() = y.row(r).array() * (dy.row(r).array() - s);
  }
}

}  // namespace nettrain
