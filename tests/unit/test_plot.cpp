// Plotting: tick generation, SVG well-formedness and content, NaN gaps, markers, the metrics.csv
// reader on good and bad files, and the standard curves figure.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "nettrain/core/errors.h"
#include "nettrain/io/plot.h"

using namespace nettrain;

namespace {

const double kNaN = std::nan("");

// A minimal XML check: tags balance, tag names are names, and every '&' starts an entity.
// Returns an empty string when the text is well-formed, else what is wrong.
std::string xml_problem(const std::string& s) {
  std::vector<std::string> stack;
  std::size_t i = 0;
  bool seen_root = false;
  while (i < s.size()) {
    if (s[i] == '&') {
      const std::size_t semi = s.find(';', i);
      if (semi == std::string::npos) return "unterminated entity at " + std::to_string(i);
      const std::string ent = s.substr(i, semi - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;")
        return "bad entity " + ent;
      i = semi + 1;
      continue;
    }
    if (s[i] == '>') return "stray '>' at " + std::to_string(i);
    if (s[i] != '<') {
      if (stack.empty() && !std::isspace(static_cast<unsigned char>(s[i]))) return "text outside the root";
      ++i;
      continue;
    }
    if (s.compare(i, 2, "<?") == 0) {
      const std::size_t end = s.find("?>", i);
      if (end == std::string::npos) return "unterminated <?";
      i = end + 2;
      continue;
    }
    const std::size_t end = s.find('>', i);
    if (end == std::string::npos) return "unterminated tag";
    std::string tag = s.substr(i + 1, end - i - 1);
    if (tag.find('<') != std::string::npos) return "'<' inside a tag: " + tag;
    i = end + 1;
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool self_closing = !tag.empty() && tag.back() == '/';
    if (closing) tag.erase(0, 1);
    if (self_closing) tag.pop_back();
    const std::string name = tag.substr(0, tag.find_first_of(" \t\n"));
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == '_';
        }))
      return "bad tag name '" + name + "'";
    if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) return "unbalanced quotes in <" + tag + ">";
    if (closing) {
      if (stack.empty() || stack.back() != name)
        return "</" + name + "> does not close " + (stack.empty() ? "" : stack.back());
      stack.pop_back();
    } else if (!self_closing) {
      if (stack.empty() && seen_root) return "second root element <" + name + ">";
      stack.push_back(name);
      seen_root = true;
    } else if (stack.empty()) {
      return "self-closing root";
    }
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  return seen_root ? "" : "no root element";
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<double> iota(std::size_t n, double start = 1) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = start + static_cast<double>(i);
  return v;
}

// A file in the temp folder, removed at the end of the test.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name, const std::string& content)
      : path((std::filesystem::temp_directory_path() / ("nettrain_test_plot_" + name)).string()) {
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

MetricsTable table(std::size_t epochs, bool validation, bool accuracy) {
  MetricsTable t;
  t.columns = {"epoch",        "train_loss", "train_accuracy", "val_loss",
               "val_accuracy", "lr",         "seconds",        "samples_per_second"};
  for (std::size_t e = 1; e <= epochs; ++e) {
    const double x = static_cast<double>(e);
    t.rows.push_back({x, 1.0 / x, accuracy ? 1 - 0.5 / x : kNaN, validation ? 1.1 / x : kNaN,
                      validation && accuracy ? 1 - 0.6 / x : kNaN, 0.01, 2.0, 1000});
  }
  return t;
}

}  // namespace

TEST_CASE("plot: the tag-balance checker itself rejects broken XML") {
  CHECK(xml_problem("<a><b/></a>").empty());
  CHECK(!xml_problem("<a><b></a>").empty());
  CHECK(!xml_problem("<a>x < y</a>").empty());
  CHECK(!xml_problem("<a>x & y</a>").empty());
  CHECK(!xml_problem("<a></a><b></b>").empty());
}

TEST_CASE("plot: nice ticks use 1-2-5 steps inside the range") {
  const auto t = nice_ticks(0, 0.93);
  REQUIRE(t.size() == 5);
  for (std::size_t i = 0; i < t.size(); ++i) CHECK(t[i] == doctest::Approx(0.2 * static_cast<double>(i)));

  const auto narrow = nice_ticks(0.8812, 0.8834);
  REQUIRE(narrow.size() >= 3);
  CHECK(narrow.size() <= 6);
  CHECK(narrow.front() >= 0.8812);
  CHECK(narrow.back() <= 0.8834);
  CHECK(narrow[1] - narrow[0] == doctest::Approx(0.0005));
  CHECK(narrow.front() == doctest::Approx(0.8815));

  const auto big = nice_ticks(-130, 870);
  CHECK(big[1] - big[0] == doctest::Approx(200));
  CHECK(big.front() == doctest::Approx(0));

  // Epochs: whole-number steps, never 1.5.
  const auto e3 = nice_ticks(1, 3, 6, true);
  CHECK(e3 == std::vector<double>{1, 2, 3});
  const auto e10 = nice_ticks(1, 10, 6, true);
  CHECK(e10 == std::vector<double>{2, 4, 6, 8, 10});
}

TEST_CASE("plot: a degenerate range is widened around the value") {
  const auto t = nice_ticks(5, 5);
  REQUIRE(t.size() >= 2);
  CHECK(t.front() < 5);
  CHECK(t.back() > 5);
  CHECK(std::any_of(t.begin(), t.end(), [](double v) { return std::abs(v - 5) < 1e-9; }));
  const auto z = nice_ticks(0, 0);
  REQUIRE(z.size() >= 2);
  CHECK(z.front() < 0);
  CHECK(z.back() > 0);
  CHECK(nice_ticks(1, 1, 6, true) == std::vector<double>{0, 1, 2});
  CHECK(nice_ticks(kNaN, 1).empty());
}

TEST_CASE("plot: the SVG is well-formed, titled, labelled and escaped") {
  Panel p{"Loss <ln>", "epoch", "loss & more", {}};
  p.series.push_back(Series{"a<b & c>d", iota(5), {5, 4, 3, 2, 1}, false, 0});
  p.series.push_back(Series{"\"quoted\" val", iota(5), {6, 5, 4, 3, 2}, true, 1});
  const std::string svg = render_svg("Run <1> & 'friends'", {p, p});
  INFO(svg);
  CHECK(xml_problem(svg) == "");
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("Run &lt;1&gt; &amp; &apos;friends&apos;") != std::string::npos);
  CHECK(svg.find("a&lt;b &amp; c&gt;d") != std::string::npos);
  CHECK(svg.find("&quot;quoted&quot; val") != std::string::npos);
  CHECK(svg.find("Loss &lt;ln&gt;") != std::string::npos);
  CHECK(svg.find("loss &amp; more") != std::string::npos);
  CHECK(svg.find("a<b") == std::string::npos);
  CHECK(svg.find("stroke-dasharray") != std::string::npos);  // the dashed series
  // Two panels side by side.
  CHECK(svg.find("width=\"1100\"") != std::string::npos);
  CHECK(count(svg, "<path ") == 4);
}

TEST_CASE("plot: same input gives the same bytes") {
  Panel p{"t", "x", "y", {Series{"s", {0.1, 0.2, 0.35}, {1.0 / 3, 2.0 / 3, 0.5}, false, 2}}};
  CHECK(render_svg("T", {p}) == render_svg("T", {p}));
}

TEST_CASE("plot: NaN values are gaps, never text") {
  Panel p{"t", "epoch", "y", {}};
  p.series.push_back(Series{"gappy", iota(6), {1, 2, kNaN, 3, std::numeric_limits<double>::infinity(), 2}, false, 0});
  p.series.push_back(Series{"missing", iota(3), {kNaN, kNaN, kNaN}, true, 1});
  const std::string svg = render_svg("gaps", {p});
  INFO(svg);
  CHECK(xml_problem(svg) == "");
  const std::string l = lower(svg);
  CHECK(l.find("nan") == std::string::npos);
  CHECK(l.find("inf") == std::string::npos);
  // The line restarts after each gap: 3 pieces (1-2, 3, 2), so 3 moves in one path.
  const std::size_t path = svg.find("<path d=\"");
  REQUIRE(path != std::string::npos);
  const std::string d = svg.substr(path, svg.find('"', path + 9) - path);
  CHECK(count(d, "M") == 3);
  // A panel with no finite data still renders, and says so.
  Panel empty{"e", "x", "y", {Series{"none", {1}, {kNaN}, false, 0}}};
  const std::string e = render_svg("empty", {empty});
  CHECK(xml_problem(e) == "");
  CHECK(e.find("no data") != std::string::npos);
  CHECK(lower(e).find("nan") == std::string::npos);
}

TEST_CASE("plot: markers on short series and on lone points only") {
  const auto circles = [](const Series& s) { return count(render_svg("m", {Panel{"t", "x", "y", {s}}}), "<circle"); };
  // Points plus one in the legend.
  CHECK(circles(Series{"short", iota(30), iota(30), false, 0}) == 31);
  CHECK(circles(Series{"long", iota(31), iota(31), false, 0}) == 0);
  CHECK(circles(Series{"one", {3}, {0.5}, false, 0}) == 2);
  std::vector<double> y = iota(40);
  y[20] = kNaN;
  y[22] = kNaN;  // point 21 is alone between two gaps
  CHECK(circles(Series{"lone", iota(40), y, false, 0}) == 1);
}

TEST_CASE("plot: x ticks are integers when x is epochs") {
  Panel p{"t", "epoch", "y", {Series{"s", {1, 2, 3}, {0.3, 0.2, 0.1}, false, 0}}};
  const std::string svg = render_svg("epochs", {p});
  CHECK(svg.find(">1.5</text>") == std::string::npos);
  CHECK(svg.find(">2</text>") != std::string::npos);
  Panel q{"t", "x", "y", {Series{"s", {1, 1.5, 3}, {0.3, 0.2, 0.1}, false, 0}}};
  CHECK(render_svg("fractional", {q}).find(">1.5</text>") != std::string::npos);
}

TEST_CASE("plot: read_metrics_csv reads numbers and empty cells as NaN") {
  const TempFile f("good.csv",
                   "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second\r\n"
                   "1,0.9,0.7,,,0.01,1.5,40000\r\n"
                   "\n"
                   "2, 0.5 ,0.8,,,1e-3,1.25,+41000\n");
  const MetricsTable t = read_metrics_csv(f.path);
  REQUIRE(t.columns.size() == 8);
  CHECK(t.columns.back() == "samples_per_second");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.column("train_loss") == std::vector<double>{0.9, 0.5});
  CHECK(t.column("lr")[1] == doctest::Approx(0.001));
  CHECK(t.column("samples_per_second")[1] == 41000);
  CHECK(std::isnan(t.column("val_loss")[0]));
  CHECK(std::isnan(t.column("val_accuracy")[1]));
  CHECK(t.has_column("epoch"));
  CHECK(!t.has_column("val_acc"));
  CHECK_THROWS_AS(t.column("val_acc"), DataError);
}

TEST_CASE("plot: read_metrics_csv names file and line on bad input") {
  const auto message = [](const std::string& name, const std::string& content) -> std::string {
    const TempFile f(name, content);
    try {
      read_metrics_csv(f.path);
    } catch (const DataError& e) {
      const std::string m = e.what();
      CHECK(m.find(f.path) != std::string::npos);
      return m;
    }
    return "no DataError";
  };
  const std::string head = "epoch,train_loss,val_loss\n";
  const std::string fields = message("fields.csv", head + "1,0.5,0.6\n2,0.4\n");
  CHECK(fields.find(":3:") != std::string::npos);
  CHECK(fields.find("expected 3 fields") != std::string::npos);
  CHECK(fields.find("got 2") != std::string::npos);
  const std::string text = message("text.csv", head + "1,0.5,0.6\n2,0.4,abc\n");
  CHECK(text.find(":3:") != std::string::npos);
  CHECK(text.find("val_loss") != std::string::npos);
  CHECK(text.find("'abc'") != std::string::npos);
  CHECK(message("trailing.csv", head + "1,0.5x,0.6\n").find(":2:") != std::string::npos);
  CHECK(message("empty.csv", "").find("empty") != std::string::npos);
  CHECK(message("dup.csv", "epoch,loss,loss\n").find("duplicate") != std::string::npos);
  CHECK_THROWS_AS(read_metrics_csv("/nonexistent/nettrain/metrics.csv"), IoError);
  CHECK_THROWS_AS(read_metrics_csv(std::filesystem::temp_directory_path().string()), IoError);
}

TEST_CASE("plot: curves figure for one run, several runs, regression and no validation") {
  const std::string one = curves_svg({{"fashion-mlp", table(10, true, true)}});
  CHECK(xml_problem(one) == "");
  CHECK(one.find(">fashion-mlp</text>") != std::string::npos);
  CHECK(one.find(">Loss</text>") != std::string::npos);
  CHECK(one.find(">Accuracy</text>") != std::string::npos);
  CHECK(one.find(">train</text>") != std::string::npos);
  CHECK(one.find(">validation</text>") != std::string::npos);
  CHECK(count(one, "stroke-dasharray") == 4);  // val loss and val accuracy, line and legend

  const std::string many =
      curves_svg({{"a", table(5, true, true)}, {"b", table(8, false, true)}, {"c&d", table(3, true, true)}});
  CHECK(xml_problem(many) == "");
  CHECK(many.find(">3 runs</text>") != std::string::npos);
  CHECK(many.find(">a train</text>") != std::string::npos);
  CHECK(many.find(">a val</text>") != std::string::npos);
  CHECK(many.find(">b val</text>") == std::string::npos);  // b has no validation
  CHECK(many.find(">c&amp;d val</text>") != std::string::npos);
  // One colour per run: the first three palette colours all appear.
  for (const char* c : {"#0072B2", "#D55E00", "#009E73"}) CHECK(many.find(c) != std::string::npos);

  const std::string reg = curves_svg({{"reg", table(4, false, false)}});
  CHECK(xml_problem(reg) == "");
  CHECK(reg.find(">Loss</text>") != std::string::npos);
  CHECK(reg.find("Accuracy") == std::string::npos);
  CHECK(reg.find("width=\"550\"") != std::string::npos);
  CHECK(reg.find(">validation</text>") == std::string::npos);

  MetricsTable no_epoch;
  no_epoch.columns = {"train_loss"};
  no_epoch.rows = {{1.0}};
  CHECK_THROWS_AS(curves_svg({{"bad", no_epoch}}), DataError);
}

TEST_CASE("plot: a legend that would hide data in every corner goes under the panel") {
  // Horizontal lines at every y cover all four corners.
  Panel crowded{"t", "x", "y", {}};
  for (int i = 0; i < 8; ++i)
    crowded.series.push_back(Series{"line " + std::to_string(i), iota(40), std::vector<double>(40, 0.1 * i), false, i});
  const std::string svg = render_svg("crowded", {crowded});
  CHECK(xml_problem(svg) == "");
  CHECK(svg.find("height=\"440\"") == std::string::npos);  // grew taller
  CHECK(svg.find(">line 7</text>") != std::string::npos);
  // A panel with free space keeps the legend inside and the standard height.
  Panel roomy{"t", "x", "y", {Series{"only", iota(10), iota(10), false, 0}}};
  CHECK(render_svg("roomy", {roomy}).find("height=\"440\"") != std::string::npos);
}

TEST_CASE("plot: huge values get short tick labels") {
  Panel p{"t", "epoch", "loss", {Series{"spike", iota(5), {0.5, 0.4, 1e6, 0.3, 0.2}, false, 0}}};
  const std::string svg = render_svg("diverged", {p});
  CHECK(svg.find(">1e+06</text>") != std::string::npos);
  CHECK(svg.find("1000000") == std::string::npos);
}
