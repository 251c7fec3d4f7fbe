// Classification metrics for eval: confusion matrix (rows = true class, columns = predicted),
// per-class precision = tp / (tp + fp), recall = tp / (tp + fn), F1 = 2PR / (P + R) (0 when the
// denominator is 0, as scikit-learn's zero_division=0), macro and support-weighted averages, and
// top-k accuracy.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "nettrain/core/tensor.h"

namespace nettrain {

struct ClassReport {
  std::vector<std::vector<std::int64_t>> confusion;  // [true][predicted]
  std::vector<double> precision, recall, f1;
  std::vector<std::int64_t> support;  // samples per true class
  double accuracy = 0, macro_precision = 0, macro_recall = 0, macro_f1 = 0, weighted_f1 = 0;
};

ClassReport classification_report(std::span<const std::int32_t> labels, std::span<const std::int32_t> predicted,
                                  std::size_t classes);

// Fraction of rows of z (samples, classes) whose label is among the k largest scores (ties are
// broken towards the lower class index, as arg-max does); a binary sigmoid model as top_k ranks it.
double top_k_accuracy(const Matrix& z, std::span<const std::int32_t> labels, Index k);

// The k best classes of one row, best first. A single column is one sigmoid logit of a binary
// model: its two classes rank as two softmax outputs would (class 1 first when z > 0), so top-2
// holds both.
std::vector<std::int32_t> top_k(const Matrix& z, Index row, Index k);

}  // namespace nettrain
