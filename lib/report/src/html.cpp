// Pieces of the report pages; see html.h. The stylesheet is written for a laptop screen and for
// print: one column at most 1200 px wide, tables that scroll sideways rather than overflow,
// figures scaled to the column, sections not split across printed pages where avoidable.
#include "nettrain/report/html.h"

#include "nettrain/io/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace nettrain::report {

namespace {

const char* kStyle = R"css(
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; background: #fff;
       max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; line-height: 1.4; font-size: 14px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 2px solid #0072B2; padding-bottom: 3px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.lead { color: #555; margin: 0 0 12px; }
section { break-inside: avoid-page; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { padding: 3px 9px; border-bottom: 1px solid #e3e3e3; text-align: left; vertical-align: top; }
th { background: #f3f6f9; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.facts th { background: none; color: #555; font-weight: normal; }
table.facts td.num { text-align: left; }
table.facts td { white-space: pre-wrap; }
table.sortable th { cursor: pointer; }
table.sortable td { white-space: nowrap; }
table.sortable th:hover { background: #e3ecf4; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; }
details summary { cursor: pointer; color: #0072B2; margin: 6px 0; }
svg.figure { width: 100%; height: auto; display: block; margin: 6px 0 14px; }
.outcome { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.outcome div { border: 1px solid #d6e2ec; border-radius: 4px; padding: 6px 12px; background: #f7fafc; }
.outcome b { display: block; font-size: 20px; }
table.heat td { text-align: right; min-width: 34px; font-variant-numeric: tabular-nums; }
table.heat th.row { text-align: right; }
.gallery { display: flex; flex-wrap: wrap; gap: 8px; }
figure { margin: 0; width: 92px; font-size: 11px; text-align: center; }
figure img { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #ccc; display: block; margin: 0 auto 2px; }
.confusions td { vertical-align: middle; }
.confusions img { width: 42px; height: 42px; image-rendering: pixelated; border: 1px solid #ccc; margin-right: 2px; }
.muted { color: #777; }
@media print { body { max-width: none; padding: 0; } h2 { break-after: avoid; } details { display: none; } }
)css";

bool looks_numeric(const std::string& s) {
  if (s.empty() || s == "-") return false;
  if (!(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '.')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == ',' || c == '-' || c == 'e' || c == '+' ||
           c == '%';
  });
}

}  // namespace

std::string escape_html(const std::string& s) { return escape_xml(s); }

std::string html_page(const std::string& title, const std::string& body, const std::string& script) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
      escape_html(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n" + body;
  if (!script.empty()) out += "<script>\n" + script + "</script>\n";
  return out + "</body>\n</html>\n";
}

std::string html_table(const std::vector<std::vector<std::string>>& rows, const std::string& css_class) {
  std::string out = "<div class=\"scroll\"><table" + (css_class.empty() ? "" : " class=\"" + css_class + "\"") + ">\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out += i == 0 ? "<thead><tr>" : "<tr>";
    for (const auto& cell : rows[i]) {
      const char* tag = i == 0 ? "th" : "td";
      out += std::string("<") + tag + (i > 0 && looks_numeric(cell) ? " class=\"num\"" : "") + ">" + escape_html(cell) +
             "</" + tag + ">";
    }
    out += i == 0 ? "</tr></thead><tbody>\n" : "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

std::string inline_svg(const std::string& svg) {
  std::string s = svg;
  if (s.rfind("<?xml", 0) == 0) s.erase(0, s.find('\n') + 1);
  const std::string ns = " xmlns=\"http://www.w3.org/2000/svg\"";
  if (const auto at = s.find(ns); at != std::string::npos) s.erase(at, ns.size());
  // Fixed width and height become the viewBox's proportions at the column's width.
  if (const auto at = s.find("<svg "); at != std::string::npos) s.insert(at + 5, "class=\"figure\" ");
  return s;
}

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string seconds_text(double v) {
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.3g" : "%.1f", v);
  return buf;
}

std::string count(long long v) {
  const std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

}  // namespace nettrain::report
