// The standard figure of one or several runs (SPEC §4 curves.svg, §2 `nettrain plot`): loss and
// accuracy against epoch, train solid and validation dashed.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "nettrain/core/errors.h"
#include "nettrain/io/plot.h"

namespace nettrain {
namespace {

bool any_finite(const std::vector<double>& v) {
  for (const double x : v)
    if (std::isfinite(x)) return true;
  return false;
}

std::vector<double> optional_column(const MetricsTable& t, const std::string& name) {
  if (t.has_column(name)) return t.column(name);
  return std::vector<double>(t.rows.size(), std::nan(""));
}

// A vertical grey line at x = epoch across the finite range of the panel's values.
void mark_best(Panel& panel, std::int64_t epoch) {
  double lo = INFINITY, hi = -INFINITY;
  for (const Series& s : panel.series)
    for (const double y : s.y)
      if (std::isfinite(y)) {
        lo = std::min(lo, y);
        hi = std::max(hi, y);
      }
  if (!(lo <= hi)) return;
  const auto x = static_cast<double>(epoch);
  panel.series.push_back(Series{"best epoch " + std::to_string(epoch), {x, x}, {lo, hi}, true, 6});
}

}  // namespace

std::string curves_svg(const std::vector<std::pair<std::string, MetricsTable>>& runs, std::int64_t best_epoch) {
  const bool single = runs.size() == 1;
  Panel loss{"Loss", "epoch", "loss", {}};
  Panel acc{"Accuracy", "epoch", "accuracy", {}};
  bool have_accuracy = false;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    // Plain references, not a structured binding: clang before 16 cannot capture those in a lambda.
    const auto& name = runs[r].first;
    const auto& table = runs[r].second;
    for (const char* required : {"epoch", "train_loss"})
      if (!table.has_column(required)) throw DataError("run '" + name + "': metrics have no column '" + required + "'");
    const std::vector<double> epoch = table.column("epoch");
    // One run: train and validation in two colours. Several: one colour per run.
    const int train_color = single ? 0 : static_cast<int>(r), val_color = single ? 1 : static_cast<int>(r);
    const std::string train_label = single ? "train" : name + " train";
    const std::string val_label = single ? "validation" : name + " val";

    const auto add = [&](Panel& panel, const std::string& column, const std::string& label, bool dashed, int color) {
      std::vector<double> y = optional_column(table, column);
      if (!any_finite(y)) return false;
      panel.series.push_back(Series{label, epoch, std::move(y), dashed, color});
      return true;
    };
    add(loss, "train_loss", train_label, false, train_color);
    add(loss, "val_loss", val_label, true, val_color);
    have_accuracy = add(acc, "train_accuracy", train_label, false, train_color) || have_accuracy;
    have_accuracy = add(acc, "val_accuracy", val_label, true, val_color) || have_accuracy;
  }
  if (single && best_epoch > 0) {
    mark_best(loss, best_epoch);
    mark_best(acc, best_epoch);
  }
  const std::string title = single ? runs[0].first : std::to_string(runs.size()) + " runs";
  std::vector<Panel> panels{std::move(loss)};
  // Regression runs have no accuracy: the figure is the loss panel alone.
  if (have_accuracy) panels.push_back(std::move(acc));
  return render_svg(title, panels);
}

}  // namespace nettrain
