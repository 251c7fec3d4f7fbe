// Line plots written as SVG text (no plotting library), and the reader for a run's metrics.csv.
//
// render_svg draws panels side by side, each with a frame, 1-2-5 ticks, light grid, axis labels
// and a legend in the corner that covers the fewest data points. curves_svg builds the standard
// figure of a run directory (SPEC §4 curves.svg, §2 `nettrain plot`) from metrics tables.
//
// Output is deterministic: the same input gives the same bytes (numbers are formatted with
// std::to_chars at fixed precision, independent of the locale).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nettrain {

// Text for XML and HTML: & < > " ' as entities.
std::string escape_xml(const std::string& s);

// One line. NaN (or infinite) y values are gaps: the line breaks there. Points are marked with
// dots when the series has at most 30 finite points; an isolated point (no finite neighbour) is
// always marked, so a one-point series is visible. `color` indexes a colour-blind-friendly
// palette (Okabe-Ito), modulo its size.
struct Series {
  std::string label;
  std::vector<double> x, y;
  bool dashed = false;
  int color = 0;
  bool points_only = false;  // a scatter: every point marked, no line
};

// One plot area. When every finite x value is a whole number (epochs), x ticks are integers.
struct Panel {
  std::string title, x_label, y_label;
  std::vector<Series> series;
};

// Panels side by side (about 550×440 px each) under `title`. Labels and titles are XML-escaped.
std::string render_svg(const std::string& title, const std::vector<Panel>& panels);

// Tick values at a 1-2-5 step inside [lo, hi], about `target` intervals (never more). With
// `integer`, the step is a whole number ≥ 1. A degenerate range (lo == hi) is widened around the
// value first (by 5% of |value|, or 1 at zero, or 1 with `integer`). Exposed for tests.
std::vector<double> nice_ticks(double lo, double hi, int target = 5, bool integer = false);

// A metrics.csv as numbers: `columns` from the header, `rows[i][j]` is row i of column j; an
// empty cell is NaN (validation columns are empty when a run has no validation).
struct MetricsTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;

  bool has_column(const std::string& name) const;
  // The values of one column, top to bottom. Throws DataError when there is no such column.
  std::vector<double> column(const std::string& name) const;
};

// Reads a header line then numeric rows. Blank lines are skipped. Throws IoError when the file
// cannot be read, DataError naming the file and line for a wrong field count, a non-numeric
// cell, an empty or duplicate column name, or an empty file.
MetricsTable read_metrics_csv(const std::string& path);

// The standard figure: panel "Loss" (train solid, validation dashed) and panel "Accuracy" (same),
// against epoch. One run: title is the run name, train and validation in two colours. Several
// runs: one colour per run, legend "<run> train" / "<run> val", title "N runs". Validation series
// that are all empty are left out. When no run has any accuracy value (regression), the
// Accuracy panel is omitted and the figure has the Loss panel alone. Needs columns `epoch` and
// `train_loss` (DataError naming the run otherwise); the other three are optional. With one run
// and `best_epoch` > 0, a dashed grey line marks the best epoch in both panels.
std::string curves_svg(const std::vector<std::pair<std::string, MetricsTable>>& runs, std::int64_t best_epoch = 0);

}  // namespace nettrain
