#include "nettrain/train/metrics.h"

#include <algorithm>
#include <numeric>

namespace nettrain {

ClassReport classification_report(std::span<const std::int32_t> labels, std::span<const std::int32_t> predicted,
                                  std::size_t classes) {
  ClassReport r;
  r.confusion.assign(classes, std::vector<std::int64_t>(classes, 0));
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto t = static_cast<std::size_t>(labels[i]);
    const auto p = static_cast<std::size_t>(predicted[i]);
    if (t < classes && p < classes) ++r.confusion[t][p];
    correct += labels[i] == predicted[i] ? 1 : 0;
  }
  r.precision.assign(classes, 0);
  r.recall.assign(classes, 0);
  r.f1.assign(classes, 0);
  r.support.assign(classes, 0);
  double total = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    std::int64_t predicted_c = 0;
    for (std::size_t t = 0; t < classes; ++t) predicted_c += r.confusion[t][c];
    r.support[c] = std::accumulate(r.confusion[c].begin(), r.confusion[c].end(), std::int64_t{0});
    const auto tp = static_cast<double>(r.confusion[c][c]);
    r.precision[c] = predicted_c > 0 ? tp / static_cast<double>(predicted_c) : 0.0;
    r.recall[c] = r.support[c] > 0 ? tp / static_cast<double>(r.support[c]) : 0.0;
    const double pr = r.precision[c] + r.recall[c];
    r.f1[c] = pr > 0 ? 2 * r.precision[c] * r.recall[c] / pr : 0.0;
    r.macro_precision += r.precision[c];
    r.macro_recall += r.recall[c];
    r.macro_f1 += r.f1[c];
    r.weighted_f1 += r.f1[c] * static_cast<double>(r.support[c]);
    total += static_cast<double>(r.support[c]);
  }
  if (classes > 0) {
    const auto k = static_cast<double>(classes);
    r.macro_precision /= k;
    r.macro_recall /= k;
    r.macro_f1 /= k;
  }
  r.weighted_f1 = total > 0 ? r.weighted_f1 / total : 0.0;
  r.accuracy = labels.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(labels.size());
  return r;
}

std::vector<std::int32_t> top_k(const Matrix& z, Index row, Index k) {
  if (z.cols() == 1) {  // one sigmoid logit: class 1 when z > 0, the other class second
    const std::int32_t best = z(row, 0) > 0.0f ? 1 : 0;
    std::vector<std::int32_t> two = {best, 1 - best};
    two.resize(static_cast<std::size_t>(std::clamp<Index>(k, 0, 2)));
    return two;
  }
  std::vector<std::int32_t> idx(static_cast<std::size_t>(z.cols()));
  std::iota(idx.begin(), idx.end(), 0);
  const auto kk = static_cast<std::size_t>(std::min(k, z.cols()));
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(kk), idx.end(),
                    [&](std::int32_t a, std::int32_t b) {
                      const float za = z(row, a), zb = z(row, b);
                      return za > zb || (za == zb && a < b);
                    });
  idx.resize(kk);
  return idx;
}

double top_k_accuracy(const Matrix& z, std::span<const std::int32_t> labels, Index k) {
  if (z.rows() == 0) return 0.0;
  Index hits = 0;
  for (Index i = 0; i < z.rows(); ++i) {
    const auto best = top_k(z, i, k);
    hits += std::find(best.begin(), best.end(), labels[static_cast<std::size_t>(i)]) != best.end() ? 1 : 0;
  }
  return static_cast<double>(hits) / static_cast<double>(z.rows());
}

}  // namespace nettrain
