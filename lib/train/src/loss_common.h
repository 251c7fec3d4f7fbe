// Target checks shared by the losses: each throws DataError naming the expected vs actual value.
#pragma once

#include <string>

#include "nettrain/core/errors.h"
#include "nettrain/train/loss.h"

namespace nettrain::train_detail {

// Class labels for a batch of `batch` rows with `classes` classes: one label per row, each in
// [0, classes).
inline void check_labels(const std::string& loss, const Targets& t, Index batch, Index classes) {
  if (static_cast<Index>(t.labels.size()) != batch)
    throw DataError(loss + ": got " + std::to_string(t.labels.size()) + " labels for a batch of " +
                    std::to_string(batch) + " rows");
  for (std::size_t i = 0; i < t.labels.size(); ++i) {
    const std::int32_t y = t.labels[i];
    if (y < 0 || y >= classes)
      throw DataError(loss + ": label " + std::to_string(y) + " of batch row " + std::to_string(i) +
                      " is out of range [0, " + std::to_string(classes) + ")");
  }
}

// A value matrix of the output's shape.
inline void check_values(const std::string& loss, const Matrix& values, Index rows, Index cols) {
  if (values.rows() != rows || values.cols() != cols)
    throw DataError(loss + ": targets have shape (" + std::to_string(values.rows()) + ", " +
                    std::to_string(values.cols()) + "), expected (" + std::to_string(rows) + ", " +
                    std::to_string(cols) + ") like the network output");
}

}  // namespace nettrain::train_detail
