// The figures of the report pages; see charts.h. Every plot goes through plot.h's render_svg.
#include "nettrain/report/charts.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "nettrain/report/html.h"

namespace nettrain::report {

namespace {

constexpr int kBlack = 6;  // plot.h palette index
constexpr std::size_t kMaxLinePoints = 2000;

std::vector<double> column_or_nan(const MetricsTable& t, const std::string& name) {
  if (t.has_column(name)) return t.column(name);
  return std::vector<double>(t.rows.size(), std::nan(""));
}

bool any_finite(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

// Adds train (solid) and validation (dashed) series of one metric; false when neither has data.
bool add_pair(Panel& p, const MetricsTable& t, const std::string& metric) {
  const std::vector<double> epoch = t.column("epoch");
  bool any = false;
  for (const bool val : {false, true}) {
    std::vector<double> y = column_or_nan(t, (val ? "val_" : "train_") + metric);
    if (!any_finite(y)) continue;
    p.series.push_back(Series{val ? "validation" : "train", epoch, std::move(y), val, val ? 1 : 0});
    any = true;
  }
  return any;
}

// A vertical dashed line at the best epoch over the panel's y range.
void mark_best(Panel& p, double epoch) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& s : p.series)
    for (const double y : s.y)
      if (std::isfinite(y)) lo = std::min(lo, y), hi = std::max(hi, y);
  if (!std::isfinite(lo)) return;
  p.series.push_back(Series{"best epoch (" + fixed(epoch, 0) + ")", {epoch, epoch}, {lo, hi}, true, kBlack});
}

// Every k-th point so that at most `max` remain (the last point always kept).
void thin(std::vector<double>& x, std::vector<double>& y, std::size_t max) {
  if (x.size() <= max) return;
  const std::size_t k = (x.size() + max - 1) / max;
  std::vector<double> tx, ty;
  for (std::size_t i = 0; i < x.size(); i += k) tx.push_back(x[i]), ty.push_back(y[i]);
  if (tx.back() != x.back()) tx.push_back(x.back()), ty.push_back(y.back());
  x = std::move(tx);
  y = std::move(ty);
}

// The histogram of v in `bins` equal bins, as a step outline starting and ending at 0.
Series histogram_outline(const std::vector<double>& v, int bins) {
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  std::vector<double> counts(static_cast<std::size_t>(bins), 0.0);
  for (const double x : v) {
    const int b = std::clamp(static_cast<int>((x - lo) / (hi - lo) * bins), 0, bins - 1);
    counts[static_cast<std::size_t>(b)] += 1;
  }
  Series s{"samples per bin", {lo}, {0.0}, false, 0};
  const double w = (hi - lo) / bins;
  for (int b = 0; b < bins; ++b) {
    const double c = counts[static_cast<std::size_t>(b)];
    s.x.insert(s.x.end(), {lo + b * w, lo + (b + 1) * w});
    s.y.insert(s.y.end(), {c, c});
  }
  s.x.push_back(hi);
  s.y.push_back(0.0);
  return s;
}

}  // namespace

std::string run_curves_svg(const RunData& run) {
  Panel loss{"Loss", "epoch", "loss", {}};
  Panel acc{"Accuracy", "epoch", "accuracy", {}};
  if (run.metrics.rows.empty() || !run.metrics.has_column("epoch")) return render_svg(run.name, {loss});
  add_pair(loss, run.metrics, "loss");
  const bool have_acc = add_pair(acc, run.metrics, "accuracy");
  if (const auto best = run.best_epoch()) {
    mark_best(loss, static_cast<double>(*best));
    if (have_acc) mark_best(acc, static_cast<double>(*best));
  }
  std::vector<Panel> panels{std::move(loss)};
  if (have_acc) panels.push_back(std::move(acc));
  return render_svg(run.name, panels);
}

std::string schedule_and_steps_svg(const RunData& run) {
  std::vector<Panel> panels;
  if (!run.metrics.rows.empty() && run.metrics.has_column("lr") && run.metrics.has_column("epoch"))
    panels.push_back(Panel{"Learning rate",
                           "epoch",
                           "learning rate",
                           {Series{"", run.metrics.column("epoch"), run.metrics.column("lr"), false, 2}}});
  if (!run.steps.rows.empty() && run.steps.has_column("step") && run.steps.has_column("loss")) {
    std::vector<double> x = run.steps.column("step"), y = run.steps.column("loss");
    thin(x, y, kMaxLinePoints);
    panels.push_back(Panel{"Loss per logged step", "step", "training loss (batch)", {Series{"", x, y, false, 0}}});
  }
  return panels.empty() ? "" : render_svg("Learning rate and step loss", panels);
}

std::vector<std::string> regression_svgs(const Matrix& predicted, const Matrix& truth,
                                         const std::vector<std::string>& target_names) {
  std::vector<std::string> out;
  const std::size_t n = static_cast<std::size_t>(predicted.rows());
  if (n == 0) return out;
  const std::size_t k = (n + kMaxScatterPoints - 1) / kMaxScatterPoints;
  for (Index t = 0; t < predicted.cols(); ++t) {
    const std::string name = static_cast<std::size_t>(t) < target_names.size()
                                 ? target_names[static_cast<std::size_t>(t)]
                                 : "target " + std::to_string(t);
    Series points{"samples", {}, {}, false, 0, true};
    std::vector<double> residuals;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t i = 0; i < n; ++i) {
      const double yt = truth(static_cast<Index>(i), t), yp = predicted(static_cast<Index>(i), t);
      residuals.push_back(yp - yt);
      lo = std::min({lo, yt, yp});
      hi = std::max({hi, yt, yp});
      if (i % k == 0) points.x.push_back(yt), points.y.push_back(yp);
    }
    Panel scatter{"Predicted vs true",
                  "true " + name,
                  "predicted " + name,
                  {std::move(points), Series{"y = x", {lo, hi}, {lo, hi}, true, kBlack}}};
    Panel hist{"Residuals (predicted - true)", "residual", "samples", {histogram_outline(residuals, 30)}};
    out.push_back(render_svg(name, {std::move(scatter), std::move(hist)}));
  }
  return out;
}

std::string confusion_heatmap(const std::vector<std::vector<std::int64_t>>& confusion,
                              const std::vector<std::string>& names) {
  std::string out = "<div class=\"scroll\"><table class=\"heat\">\n<thead><tr><th>true \\ predicted</th>";
  for (const auto& n : names) out += "<th class=\"num\">" + escape_html(n) + "</th>";
  out += "</tr></thead><tbody>\n";
  for (std::size_t i = 0; i < confusion.size(); ++i) {
    std::int64_t row_total = 0;
    for (const auto c : confusion[i]) row_total += c;
    out += "<tr><th class=\"row\">" + escape_html(i < names.size() ? names[i] : std::to_string(i)) + "</th>";
    for (std::size_t j = 0; j < confusion[i].size(); ++j) {
      const double share = row_total > 0 ? static_cast<double>(confusion[i][j]) / static_cast<double>(row_total) : 0.0;
      // Mistakes are rare next to hits: a square-root scale keeps a 2% confusion visible.
      const double alpha = i == j ? share : std::sqrt(share);
      const char* rgb = i == j ? "0,114,178" : "213,94,0";
      out += "<td style=\"background:rgba(" + std::string(rgb) + "," + fixed(alpha, 3) + ")" +
             (alpha > 0.55 ? ";color:#fff" : "") + "\" title=\"" + fixed(100 * share, 1) + "% of the row\">" +
             std::to_string(confusion[i][j]) + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

}  // namespace nettrain::report
