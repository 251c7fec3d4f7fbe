// Pieces of the report pages: escaping, the page shell with its inline stylesheet, tables, and
// SVG figures made fit to sit inline in HTML. Nothing here refers to the network: no fonts,
// scripts or images from elsewhere.
#pragma once

#include <string>
#include <vector>

namespace nettrain::report {

std::string escape_html(const std::string& s);

// <!DOCTYPE html> ... with the shared stylesheet, `title` in <title>, `body` as given, and
// `script` (inline, may be "") at the end.
std::string html_page(const std::string& title, const std::string& body, const std::string& script = "");

// A table: first row header. Cells are escaped; cells that look like numbers are right-aligned.
std::string html_table(const std::vector<std::vector<std::string>>& rows, const std::string& css_class = "");

// An SVG document from plot.h as an inline element: no XML prolog, no namespace attribute (HTML
// parsers do not need it, and the page refers to no URL), scaled to the width of the page.
std::string inline_svg(const std::string& svg);

// Fixed decimals; "–" for NaN.
std::string fixed(double v, int decimals);
// Seconds: three significant digits below 10 s ("0.0123"), else one decimal.
std::string seconds_text(double v);
// 1234567 -> "1,234,567"
std::string count(long long v);

}  // namespace nettrain::report
