// mse; the formulas are in mse.h.
#include "mse.h"

#include "loss_common.h"

namespace nettrain {

Mse::Mse(const ConfigNode& cfg) { cfg.check_keys({"type"}); }

double Mse::forward(const Matrix& z, const Targets& t) {
  if (t.values == nullptr)
    throw ConfigError(
        "mse needs numeric targets (a dataset with task \"regression\"), "
        "got class labels; use softmax_cross_entropy for classification");
  train_detail::check_values(type(), *t.values, z.rows(), z.cols());
  diff_.resize(z.rows(), z.cols());  // no-op unless the batch size changed
  const Matrix& v = *t.values;
  double total = 0.0;
  for (Index i = 0; i < z.rows(); ++i)
    for (Index j = 0; j < z.cols(); ++j) {
      // The loss from the exact difference in double; dz from the float one.
      const double d = static_cast<double>(z(i, j)) - v(i, j);
      total += d * d;
      diff_(i, j) = z(i, j) - v(i, j);
    }
  return diff_.size() > 0 ? total / static_cast<double>(diff_.size()) : 0.0;
}

void Mse::backward(Matrix& dz) {
  const Index n = mean_rows(diff_.rows()) * diff_.cols();
  const float scale = n > 0 ? 2.0f / static_cast<float>(n) : 0.0f;
  dz.resize(diff_.rows(), diff_.cols());
  dz.noalias() = diff_ * scale;
}

void Mse::predict(const Matrix& z, Matrix& probs) const { probs = z; }

}  // namespace nettrain
