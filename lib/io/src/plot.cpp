// SVG line plots written as text, and the standard curves figure of a run directory.
//
// Layout of one panel (px, relative to its left edge; the figure title takes the top 40 px):
//   panel title at y=60; plot area from y=74 to H-58; x tick labels below it, x label under them;
//   y label rotated at the far left, y tick labels right-aligned against the plot area.
// The y axis runs from the tick below the data to the tick above it, the x axis over the data;
// both get 3% more on each side, so markers on the extremes sit clear of the frame.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

#include "nettrain/core/errors.h"
#include "nettrain/io/plot.h"

namespace nettrain {

std::string escape_xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

constexpr double kPanelW = 550, kFigH = 440, kPlotTop = 74, kPlotBottomMargin = 58, kRightMargin = 22;
constexpr double kTickFont = 12, kLabelFont = 13, kLegendFont = 12, kLegendRow = 18;
constexpr std::size_t kMarkerMaxPoints = 30;

// Okabe-Ito, reordered so that the first colours are the most distinct on white; yellow last.
constexpr std::array<const char*, 8> kPalette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                 "#E69F00", "#56B4E9", "#000000", "#F0E442"};

const char* palette(int i) {
  const int n = static_cast<int>(kPalette.size());
  return kPalette[static_cast<std::size_t>(((i % n) + n) % n)];
}

// Fixed-precision, locale-independent. "-0.0" is printed as "0.0".
std::string fmt(double v, int decimals) {
  std::array<char, 64> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed, decimals);
  std::string s(buf.data(), res.ptr);
  if (s.front() == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string px(double v) { return fmt(v, 2); }

// Rough width of a text in a sans-serif font: 0.6 em per character (UTF-8 aware).
double text_width(const std::string& s, double font) {
  std::size_t chars = 0;
  for (const char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++chars;
  return 0.6 * font * static_cast<double>(chars);
}

double nice_step(double span, int target, bool integer) {
  const double raw = span / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double eps = 1e-9;
  double step = (norm <= 1 + eps ? 1 : norm <= 2 + eps ? 2 : norm <= 5 + eps ? 5 : 10) * mag;
  if (integer) step = std::max(1.0, std::round(step));
  return step;
}

// Widens [lo, hi] when it is (numerically) a single value.
void widen_degenerate(double& lo, double& hi, bool integer) {
  if (hi - lo > 1e-12 * std::max({1.0, std::abs(lo), std::abs(hi)})) return;
  const double v = 0.5 * (lo + hi);
  double pad = integer ? 1.0 : 0.05 * std::abs(v);
  if (pad == 0) pad = 1.0;
  lo = v - pad;
  hi = v + pad;
}

int tick_decimals(double step) { return std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9))); }

// `digits` > 0: that many significant digits in the shortest of fixed and scientific notation.
std::string tick_label(double v, int decimals, int digits) {
  if (digits <= 0) return fmt(v, decimals);
  std::array<char, 64> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::general, digits);
  return std::string(buf.data(), res.ptr);
}

struct Axis {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> ticks;
  std::vector<std::string> labels;
};

void label_ticks(Axis& a) {
  double biggest = 0;
  for (const double t : a.ticks) biggest = std::max(biggest, std::abs(t));
  // Very large or very small values in fixed notation would be too wide to read.
  const bool sci = biggest >= 1e6 || (biggest > 0 && biggest < 1e-3);
  const int digits =
      sci ? std::clamp(static_cast<int>(std::floor(std::log10(biggest)) - std::floor(std::log10(a.step))) + 1, 1, 15)
          : 0;
  a.labels.clear();
  for (const double t : a.ticks) a.labels.push_back(tick_label(t, tick_decimals(a.step), digits));
}

bool finite_point(const Series& s, std::size_t i) { return std::isfinite(s.x[i]) && std::isfinite(s.y[i]); }

std::size_t point_count(const Series& s) { return std::min(s.x.size(), s.y.size()); }

std::size_t finite_count(const Series& s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < point_count(s); ++i) n += finite_point(s, i) ? 1 : 0;
  return n;
}

// Data ranges over the finite points of all series; false when there are none.
bool data_range(const Panel& p, double& xlo, double& xhi, double& ylo, double& yhi, bool& integer_x) {
  xlo = ylo = std::numeric_limits<double>::infinity();
  xhi = yhi = -xlo;
  integer_x = true;
  bool any = false;
  for (const auto& s : p.series)
    for (std::size_t i = 0; i < point_count(s); ++i) {
      if (!finite_point(s, i)) continue;
      any = true;
      xlo = std::min(xlo, s.x[i]);
      xhi = std::max(xhi, s.x[i]);
      ylo = std::min(ylo, s.y[i]);
      yhi = std::max(yhi, s.y[i]);
      integer_x = integer_x && s.x[i] == std::round(s.x[i]);
    }
  return any;
}

struct Rect {
  double x0, y0, x1, y1;
  bool contains(double x, double y) const { return x >= x0 && x <= x1 && y >= y0 && y <= y1; }
};

struct Mapped {  // a series in pixel space; NaN x marks a gap
  std::vector<double> x, y;
};

// How much of the data a legend box at `r` would hide: points along every segment, sampled
// every 2 px, that fall inside it.
std::size_t overlap(const std::vector<Mapped>& lines, const Rect& r) {
  std::size_t hits = 0;
  for (const auto& m : lines)
    for (std::size_t i = 0; i < m.x.size(); ++i) {
      if (std::isnan(m.x[i])) continue;
      if (r.contains(m.x[i], m.y[i])) hits += 4;  // markers weigh more than line pixels
      if (i + 1 >= m.x.size() || std::isnan(m.x[i + 1])) continue;
      const double len = std::hypot(m.x[i + 1] - m.x[i], m.y[i + 1] - m.y[i]);
      const int n = std::max(1, static_cast<int>(len / 2));
      for (int k = 1; k < n; ++k) {
        const double t = static_cast<double>(k) / n;
        hits += r.contains(m.x[i] + t * (m.x[i + 1] - m.x[i]), m.y[i] + t * (m.y[i + 1] - m.y[i])) ? 1 : 0;
      }
    }
  return hits;
}

bool has_markers(const Series& s) { return s.points_only || finite_count(s) <= kMarkerMaxPoints; }

// The x axis over the data, 3% wider on each side.
Axis x_axis(double xlo, double xhi, bool integer_x) {
  Axis ax;
  widen_degenerate(xlo, xhi, integer_x);
  const double xpad = 0.03 * (xhi - xlo);
  ax.lo = xlo - xpad;
  ax.hi = xhi + xpad;
  ax.ticks = nice_ticks(ax.lo, ax.hi, 6, integer_x);
  ax.step = ax.ticks.size() >= 2 ? ax.ticks[1] - ax.ticks[0] : 1.0;
  label_ticks(ax);
  return ax;
}

// The y tick labels decide the left margin; compute them for the widest extension used below
// (tick numbers klo-2 .. khi+2).
double y_label_width(double step, double klo, double khi) {
  double label_w = 0;
  for (double k = klo - 2; k <= khi + 2; ++k) {
    Axis tmp;
    tmp.step = step;
    tmp.ticks = {k * step};
    label_ticks(tmp);
    label_w = std::max(label_w, text_width(tmp.labels[0], kTickFont));
  }
  return label_w;
}

// The labelled series and the size of the box that lists them.
struct Legend {
  std::vector<const Series*> entries;
  double w = 0, h = 0;
  Rect box{};          // where it is drawn (below the panel: the first entry's cell)
  bool below = false;  // under the panel rather than inside a corner
};

Legend legend_size(const Panel& p) {
  Legend lg;
  double text_w = 0;
  for (const auto& s : p.series)
    if (!s.label.empty()) {
      lg.entries.push_back(&s);
      text_w = std::max(text_w, text_width(s.label, kLegendFont));
    }
  lg.w = 8 + 28 + 6 + text_w + 8;
  lg.h = 8 + kLegendRow * static_cast<double>(lg.entries.size());
  return lg;
}

// The series in pixel space for a y axis over tick numbers lo..hi.
std::vector<Mapped> map_series(const Panel& p, const Axis& ax, const Rect& f, double lo, double hi, double step) {
  const double ypad = 0.03 * (hi - lo) * step;  // keeps markers on the edge ticks off the frame
  const double ylo_px = lo * step - ypad, yhi_px = hi * step + ypad;
  std::vector<Mapped> mapped;
  for (const auto& s : p.series) {
    Mapped m;
    for (std::size_t i = 0; i < point_count(s); ++i) {
      const bool ok = finite_point(s, i);
      m.x.push_back(ok ? f.x0 + (s.x[i] - ax.lo) / (ax.hi - ax.lo) * (f.x1 - f.x0) : std::nan(""));
      m.y.push_back(ok ? f.y1 - (s.y[i] - ylo_px) / (yhi_px - ylo_px) * (f.y1 - f.y0) : std::nan(""));
    }
    mapped.push_back(std::move(m));
  }
  return mapped;
}

// Try the four corners; when all of them hide data, give the y axis one more step of headroom
// (above for top corners, below for bottom ones). When that is not enough either, the legend
// goes under the panel (legend.below). Returns the mapped series; lo_k and hi_k come back as
// the chosen y tick numbers.
std::vector<Mapped> place_legend(const Panel& p, const Axis& ax, const Rect& f, double step, double& lo_k, double& hi_k,
                                 Legend& legend) {
  std::vector<Mapped> lines;
  const double klo = lo_k, khi = hi_k;
  std::size_t best_score = std::numeric_limits<std::size_t>::max();
  for (int extra = 0; extra <= 1 && best_score > 0; ++extra) {
    for (int corner = 0; corner < 4 && best_score > 0; ++corner) {
      const bool top = corner < 2, right = corner % 2 == 0;  // order: TR, TL, BR, BL
      const double lo = klo - (top ? 0 : extra), hi = khi + (top ? extra : 0);
      std::vector<Mapped> mapped = map_series(p, ax, f, lo, hi, step);
      const double lx = right ? f.x1 - 8 - legend.w : f.x0 + 8, ly = top ? f.y0 + 8 : f.y1 - 8 - legend.h;
      const Rect r{lx - 4, ly - 4, lx + legend.w + 4, ly + legend.h + 4};
      const std::size_t score = legend.entries.empty() ? 0 : overlap(mapped, r);
      // Extensions are only worth taking when they give a clean fit.
      if (score < best_score && (extra == 0 || score == 0)) {
        best_score = score;
        legend.box = Rect{lx, ly, lx + legend.w, ly + legend.h};
        lines = std::move(mapped);
        lo_k = lo;
        hi_k = hi;
      }
    }
  }
  legend.below = !legend.entries.empty() && best_score > 0;
  return lines;
}

// Title, grid, ticks and their labels, axis labels, and "no data" when there is none.
void draw_axes(std::string& out, const Panel& p, const Rect& f, const Axis& ax, const Axis& ay, double left, bool any) {
  const auto map_x = [&](double v) { return f.x0 + (v - ax.lo) / (ax.hi - ax.lo) * (f.x1 - f.x0); };
  const auto map_y = [&](double v) { return f.y1 - (v - ay.lo) / (ay.hi - ay.lo) * (f.y1 - f.y0); };
  const double x0 = f.x0, x1 = f.x1, y0 = f.y0, y1 = f.y1;
  out += "<text x=\"" + px(0.5 * (x0 + x1)) +
         "\" y=\"60\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" + escape_xml(p.title) +
         "</text>\n";
  // Grid, then ticks and their labels.
  for (std::size_t i = 0; i < ax.ticks.size(); ++i) {
    const std::string x = px(map_x(ax.ticks[i]));
    out += "<line x1=\"" + x + "\" y1=\"" + px(y0) + "\" x2=\"" + x + "\" y2=\"" + px(y1) +
           "\" stroke=\"#e0e0e0\" stroke-width=\"1\"/>\n";
    out += "<line x1=\"" + x + "\" y1=\"" + px(y1) + "\" x2=\"" + x + "\" y2=\"" + px(y1 + 5) +
           "\" stroke=\"#333333\"/>\n";
    out += "<text x=\"" + x + "\" y=\"" + px(y1 + 20) + "\" text-anchor=\"middle\" font-size=\"12\">" + ax.labels[i] +
           "</text>\n";
  }
  for (std::size_t i = 0; i < ay.ticks.size(); ++i) {
    const std::string y = px(map_y(ay.ticks[i]));
    out += "<line x1=\"" + px(x0) + "\" y1=\"" + y + "\" x2=\"" + px(x1) + "\" y2=\"" + y +
           "\" stroke=\"#e0e0e0\" stroke-width=\"1\"/>\n";
    out += "<line x1=\"" + px(x0 - 5) + "\" y1=\"" + y + "\" x2=\"" + px(x0) + "\" y2=\"" + y +
           "\" stroke=\"#333333\"/>\n";
    out += "<text x=\"" + px(x0 - 8) + "\" y=\"" + px(map_y(ay.ticks[i]) + 4) +
           "\" text-anchor=\"end\" font-size=\"12\">" + ay.labels[i] + "</text>\n";
  }
  out += "<text x=\"" + px(0.5 * (x0 + x1)) + "\" y=\"" + px(y1 + 44) + "\" text-anchor=\"middle\" font-size=\"13\">" +
         escape_xml(p.x_label) + "</text>\n";
  const std::string ylx = px(left + 20), yly = px(0.5 * (y0 + y1));
  out += "<text x=\"" + ylx + "\" y=\"" + yly + "\" transform=\"rotate(-90 " + ylx + " " + yly +
         ")\" text-anchor=\"middle\" font-size=\"13\">" + escape_xml(p.y_label) + "</text>\n";
  if (!any)
    out += "<text x=\"" + px(0.5 * (x0 + x1)) + "\" y=\"" + px(0.5 * (y0 + y1)) +
           "\" text-anchor=\"middle\" font-size=\"13\" fill=\"#666666\">no data</text>\n";
}

// A marker: filled for solid series, white for dashed ones; smaller in a scatter.
std::string marker(double cx, double cy, const Series& s) {
  const char* color = palette(s.color);
  return "<circle cx=\"" + px(cx) + "\" cy=\"" + px(cy) + "\" r=\"" + (s.points_only ? "2.5" : "3.5") + "\" fill=\"" +
         (s.dashed ? std::string("white") : color) + "\" stroke=\"" + color + "\" stroke-width=\"1.5\"/>\n";
}

// Lines, then markers on top (on every point of a short series, else on isolated points only).
void draw_series(std::string& out, const Panel& p, const std::vector<Mapped>& lines) {
  for (std::size_t si = 0; si < p.series.size(); ++si) {
    const Series& s = p.series[si];
    const Mapped& m = lines[si];
    const char* color = palette(s.color);
    std::string d;
    bool pen_down = false;
    for (std::size_t i = 0; i < m.x.size(); ++i) {
      if (std::isnan(m.x[i])) {
        pen_down = false;
        continue;
      }
      d += (pen_down ? " L" : (d.empty() ? "M" : " M")) + px(m.x[i]) + " " + px(m.y[i]);
      pen_down = true;
    }
    if (!d.empty() && !s.points_only)
      out += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + color +
             "\" stroke-width=\"2\" stroke-linejoin=\"round\"" + (s.dashed ? " stroke-dasharray=\"7 4\"" : "") + "/>\n";
    const bool all = has_markers(s);
    for (std::size_t i = 0; i < m.x.size(); ++i) {
      if (std::isnan(m.x[i])) continue;
      const bool isolated = (i == 0 || std::isnan(m.x[i - 1])) && (i + 1 >= m.x.size() || std::isnan(m.x[i + 1]));
      if (!all && !isolated) continue;
      out += marker(m.x[i], m.y[i], s);
    }
  }
}

// The legend in its corner, or under the panel: an even number of columns keeps pairs (train,
// val) on one row. Returns how much taller the figure must be for it.
double draw_legend(std::string& out, Legend& lg, const Rect& f) {
  std::size_t cols = 1;
  double extra_height = 0;
  if (lg.below) {
    const double entry_w = lg.w + 10;
    cols = std::max<std::size_t>(1, static_cast<std::size_t>((f.x1 - f.x0) / entry_w));
    if (cols > 1 && cols % 2 == 1 && lg.entries.size() > cols) --cols;
    const std::size_t rows = (lg.entries.size() + cols - 1) / cols;
    lg.box = Rect{f.x0 - 8, f.y1 + 52, f.x0 - 8 + entry_w, f.y1 + 52 + kLegendRow};
    extra_height = kLegendRow * static_cast<double>(rows) + 6;
  }
  if (lg.entries.empty()) return extra_height;
  const Rect& box = lg.box;
  if (!lg.below)
    out += "<rect x=\"" + px(box.x0) + "\" y=\"" + px(box.y0) + "\" width=\"" + px(lg.w) + "\" height=\"" + px(lg.h) +
           "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#bbbbbb\" rx=\"3\"/>\n";
  for (std::size_t i = 0; i < lg.entries.size(); ++i) {
    const Series& s = *lg.entries[i];
    const char* color = palette(s.color);
    const double row = static_cast<double>(lg.below ? i / cols : i), col = static_cast<double>(lg.below ? i % cols : 0);
    const double cy = box.y0 + 4 + kLegendRow * (row + 0.5);
    const double sx0 = box.x0 + 8 + col * (box.x1 - box.x0), sx1 = sx0 + 28;
    if (!s.points_only)
      out += "<line x1=\"" + px(sx0) + "\" y1=\"" + px(cy) + "\" x2=\"" + px(sx1) + "\" y2=\"" + px(cy) +
             "\" stroke=\"" + color + "\" stroke-width=\"2\"" + (s.dashed ? " stroke-dasharray=\"7 4\"" : "") + "/>\n";
    if (has_markers(s)) out += marker(0.5 * (sx0 + sx1), cy, s);
    out += "<text x=\"" + px(sx1 + 6) + "\" y=\"" + px(cy + 4) + "\" font-size=\"12\">" + escape_xml(s.label) +
           "</text>\n";
  }
  return extra_height;
}

// Appends one panel's SVG; returns how much taller than kFigH the figure must be for it.
double render_panel(std::string& out, const Panel& p, double left) {
  double xlo, xhi, ylo, yhi;
  bool integer_x;
  const bool any = data_range(p, xlo, xhi, ylo, yhi, integer_x);
  if (!any) xlo = 0, xhi = 1, ylo = 0, yhi = 1, integer_x = false;
  const Axis ax = x_axis(xlo, xhi, integer_x);

  Axis ay;
  widen_degenerate(ylo, yhi, false);
  ay.step = nice_step(yhi - ylo, 5, false);
  double klo = std::floor(ylo / ay.step + 1e-9), khi = std::ceil(yhi / ay.step - 1e-9);
  const Rect frame{left + 30 + y_label_width(ay.step, klo, khi) + 10, kPlotTop, left + kPanelW - kRightMargin,
                   kFigH - kPlotBottomMargin};

  Legend legend = legend_size(p);
  const std::vector<Mapped> lines = place_legend(p, ax, frame, ay.step, klo, khi, legend);
  ay.lo = klo * ay.step - 0.03 * (khi - klo) * ay.step;
  ay.hi = khi * ay.step + 0.03 * (khi - klo) * ay.step;
  for (double k = klo; k <= khi + 0.5; ++k) ay.ticks.push_back(k * ay.step);
  label_ticks(ay);

  out += "<g>\n";
  draw_axes(out, p, frame, ax, ay, left, any);
  draw_series(out, p, lines);
  out += "<rect x=\"" + px(frame.x0) + "\" y=\"" + px(frame.y0) + "\" width=\"" + px(frame.x1 - frame.x0) +
         "\" height=\"" + px(frame.y1 - frame.y0) + "\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n";
  const double extra_height = draw_legend(out, legend, frame);
  out += "</g>\n";
  return extra_height;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target, bool integer) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (lo > hi) std::swap(lo, hi);
  widen_degenerate(lo, hi, integer);
  const double step = nice_step(hi - lo, target, integer);
  std::vector<double> ticks;
  const double k0 = std::ceil(lo / step - 1e-9), k1 = std::floor(hi / step + 1e-9);
  for (double k = k0; k <= k1 + 0.5; ++k) ticks.push_back(k * step);
  return ticks;
}

std::string render_svg(const std::string& title, const std::vector<Panel>& panels) {
  const double width = kPanelW * static_cast<double>(std::max<std::size_t>(panels.size(), 1));
  std::string body;
  double extra = 0;
  for (std::size_t i = 0; i < panels.size(); ++i)
    extra = std::max(extra, render_panel(body, panels[i], kPanelW * static_cast<double>(i)));
  const double height = kFigH + extra;
  std::string out;
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(width, 0) + "\" height=\"" + fmt(height, 0) +
         "\" viewBox=\"0 0 " + fmt(width, 0) + " " + fmt(height, 0) +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" fill=\"#222222\">\n";
  out += "<rect x=\"0\" y=\"0\" width=\"" + fmt(width, 0) + "\" height=\"" + fmt(height, 0) + "\" fill=\"white\"/>\n";
  out += "<text x=\"" + px(0.5 * width) + "\" y=\"28\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"bold\">" +
         escape_xml(title) + "</text>\n";
  out += body;
  out += "</svg>\n";
  return out;
}

}  // namespace nettrain
