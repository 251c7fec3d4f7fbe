// softmax_cross_entropy; the formulas are in softmax_cross_entropy.h.
#include "softmax_cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "loss_common.h"

namespace nettrain {
namespace {

// Writes row i of p = softmax(z) and returns log Σ_k exp(z_ik - m_i) + m_i, the row's
// log-sum-exp, in double. p and z may not alias.
double softmax_row(const Matrix& z, Index i, Matrix& p) {
  const Index k = z.cols();
  // A plain loop: Eigen's vectorised maxCoeff trips a GCC 12 -Wmaybe-uninitialized false
  // positive with AVX-512, and K is small.
  float m = z(i, 0);
  for (Index j = 1; j < k; ++j) m = std::max(m, z(i, j));
  // Each exponential once, in float (z - m <= 0, so no overflow); the sum in double.
  double sum = 0.0;
  for (Index j = 0; j < k; ++j) {
    const float e = std::exp(z(i, j) - m);
    p(i, j) = e;
    sum += static_cast<double>(e);
  }
  const auto inv = static_cast<float>(1.0 / sum);
  for (Index j = 0; j < k; ++j) p(i, j) *= inv;
  return static_cast<double>(m) + std::log(sum);
}

}  // namespace

SoftmaxCrossEntropy::SoftmaxCrossEntropy(const ConfigNode& cfg) { cfg.check_keys({"type"}); }

double SoftmaxCrossEntropy::forward(const Matrix& z, const Targets& t) {
  const Index batch = z.rows();
  train_detail::check_labels(type(), t, batch, z.cols());
  probs_.resize(batch, z.cols());  // no-op unless the batch size changed
  labels_.assign(t.labels.begin(), t.labels.end());
  double total = 0.0;
  if (epsilon_ == 0.0) {
    for (Index i = 0; i < batch; ++i) total += softmax_row(z, i, probs_) - z(i, t.labels[i]);
  } else {
    const Index k = z.cols();
    const double off = epsilon_ / static_cast<double>(k);
    for (Index i = 0; i < batch; ++i) {
      double row_sum = 0.0;
      for (Index j = 0; j < k; ++j) row_sum += static_cast<double>(z(i, j));
      total += softmax_row(z, i, probs_) - (1.0 - epsilon_) * z(i, t.labels[i]) - off * row_sum;
    }
  }
  return batch > 0 ? total / static_cast<double>(batch) : 0.0;
}

void SoftmaxCrossEntropy::backward(Matrix& dz) {
  const Index batch = probs_.rows();
  const Index mean_over = mean_rows(batch);
  const float inv_b = mean_over > 0 ? 1.0f / static_cast<float>(mean_over) : 0.0f;
  dz.resize(batch, probs_.cols());
  if (epsilon_ == 0.0) {
    dz.noalias() = probs_ * inv_b;
    for (Index i = 0; i < batch; ++i) dz(i, labels_[static_cast<std::size_t>(i)]) -= inv_b;
    return;
  }
  const auto off = static_cast<float>(epsilon_ / static_cast<double>(probs_.cols()));
  const auto hit = static_cast<float>(1.0 - epsilon_);
  dz.noalias() = ((probs_.array() - off) * inv_b).matrix();
  for (Index i = 0; i < batch; ++i) dz(i, labels_[static_cast<std::size_t>(i)]) -= hit * inv_b;
}

void SoftmaxCrossEntropy::predict(const Matrix& z, Matrix& probs) const {
  probs.resize(z.rows(), z.cols());
  for (Index i = 0; i < z.rows(); ++i) softmax_row(z, i, probs);
}

}  // namespace nettrain
