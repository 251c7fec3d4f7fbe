// The figures of the report pages, drawn with plot.h's render_svg: a run's curves with its best
// epoch marked, learning rate and per-step loss, predicted vs true and residual histograms for
// regression; and the confusion matrix as an HTML heat map.
#pragma once

#include <string>
#include <vector>

#include "nettrain/core/tensor.h"
#include "nettrain/report/run_dir.h"

namespace nettrain::report {

// Loss and accuracy per epoch, train and validation, the best epoch marked (SVG).
std::string run_curves_svg(const RunData& run);
// Learning rate per epoch and loss per logged step (SVG); "" when the run has neither.
std::string schedule_and_steps_svg(const RunData& run);

// One figure per target: predicted against true with the y = x line, and the histogram of the
// residuals (predicted - true). At most kMaxScatterPoints points, evenly spaced over the samples.
constexpr std::size_t kMaxScatterPoints = 1500;
std::vector<std::string> regression_svgs(const Matrix& predicted, const Matrix& truth,
                                         const std::vector<std::string>& target_names);

// The confusion matrix (rows: true class) as an HTML table: counts in the cells, shading by the
// row-normalised share, the diagonal in another hue.
std::string confusion_heatmap(const std::vector<std::vector<std::int64_t>>& confusion,
                              const std::vector<std::string>& names);

}  // namespace nettrain::report
