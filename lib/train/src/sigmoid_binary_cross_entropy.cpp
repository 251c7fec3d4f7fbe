// sigmoid_binary_cross_entropy; the formulas are in sigmoid_binary_cross_entropy.h.
#include "sigmoid_binary_cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "loss_common.h"

namespace nettrain {
namespace {

// σ(z) without overflow: exp of a non-positive number only.
double sigmoid(double z) {
  if (z >= 0.0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

}  // namespace

SigmoidBinaryCrossEntropy::SigmoidBinaryCrossEntropy(const ConfigNode& cfg) { cfg.check_keys({"type"}); }

double SigmoidBinaryCrossEntropy::forward(const Matrix& z, const Targets& t) {
  const Index batch = z.rows(), k = z.cols();
  targets_.resize(batch, k);  // no-op unless the batch size changed
  sig_.resize(batch, k);
  if (t.values != nullptr) {
    train_detail::check_values(type(), *t.values, batch, k);
    for (Index i = 0; i < batch; ++i)
      for (Index j = 0; j < k; ++j) {
        const float v = (*t.values)(i, j);
        if (!(v >= 0.0f && v <= 1.0f))
          throw DataError(type() + ": target " + std::to_string(v) + " at batch row " + std::to_string(i) +
                          ", column " + std::to_string(j) + " is outside [0, 1]");
      }
    targets_ = *t.values;
  } else {
    if (k != 1)
      throw ConfigError(type() +
                        " with class labels is binary classification and needs 1 output, "
                        "but the network has " +
                        std::to_string(k) + " (use softmax_cross_entropy for several classes)");
    train_detail::check_labels(type(), t, batch, 2);
    for (Index i = 0; i < batch; ++i) targets_(i, 0) = static_cast<float>(t.labels[i]);
  }
  double total = 0.0;
  for (Index i = 0; i < batch; ++i)
    for (Index j = 0; j < k; ++j) {
      const double zd = z(i, j), td = targets_(i, j);
      total += std::max(zd, 0.0) - zd * td + std::log1p(std::exp(-std::fabs(zd)));
      sig_(i, j) = static_cast<float>(sigmoid(zd));
    }
  const Index n = batch * k;
  return n > 0 ? total / static_cast<double>(n) : 0.0;
}

void SigmoidBinaryCrossEntropy::backward(Matrix& dz) {
  const Index n = mean_rows(sig_.rows()) * sig_.cols();
  const float inv_n = n > 0 ? 1.0f / static_cast<float>(n) : 0.0f;
  dz.resize(sig_.rows(), sig_.cols());
  dz.noalias() = (sig_ - targets_) * inv_n;
}

void SigmoidBinaryCrossEntropy::predict(const Matrix& z, Matrix& probs) const {
  probs.resize(z.rows(), z.cols());
  for (Index i = 0; i < z.rows(); ++i)
    for (Index j = 0; j < z.cols(); ++j) probs(i, j) = static_cast<float>(sigmoid(z(i, j)));
}

}  // namespace nettrain
