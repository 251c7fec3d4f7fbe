// The compare page: the comparison table (click a header to sort) above the runs' curves
// overlaid, one colour per run, each named by its differing config values.
#include <cmath>

#include "nettrain/io/plot.h"
#include "nettrain/report/compare.h"
#include "nettrain/report/html.h"

namespace nettrain::report {

namespace {

// Sorts the table by the clicked column: numbers by value (data-v), others as text; a second
// click reverses. Rows without a value stay last.
const char* kSortScript = R"js(
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = th.dataset.dir !== 'asc';
      th.dataset.dir = asc ? 'asc' : 'desc';
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
        if (x === '' || y === '') return (x === '') - (y === '');
        var nx = Number(x), ny = Number(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
)js";

std::string sortable_table(const CompareTable& t) {
  std::string out = "<div class=\"scroll\"><table class=\"sortable\">\n<thead><tr><th>legend</th>";
  for (const auto& c : t.columns) out += "<th title=\"click to sort\">" + escape_html(c) + "</th>";
  out += "</tr></thead><tbody>\n";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    out += "<tr><td data-v=\"" + escape_html(t.legend[r]) + "\">" + escape_html(t.legend[r]) + "</td>";
    for (const auto& cell : t.rows[r]) {
      const std::string v = cell.value.is_null()     ? ""
                            : cell.value.is_string() ? cell.value.get<std::string>()
                                                     : cell.value.dump();
      out += std::string("<td") + (cell.value.is_number() ? " class=\"num\"" : "") + " data-v=\"" + escape_html(v) +
             "\">" + escape_html(cell.text) + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

}  // namespace

std::string compare_html(const CompareTable& t) {
  std::string body = "<h1>" + std::to_string(t.rows.size()) + " runs compared</h1>\n<p class=\"lead\">";
  if (t.keys.empty()) body += "The runs' configs are identical.";
  else {
    body += "What differs between the runs: ";
    for (std::size_t i = 0; i < t.keys.size(); ++i)
      body += (i ? ", " : "") + ("<code>" + escape_html(t.keys[i]) + "</code>");
    body += ".";
  }
  body += " Sorted by best " + escape_html(t.monitor) + "; click a header to sort by it.</p>\n";
  body += "<section>\n<h2>Runs</h2>\n" + sortable_table(t) + "</section>\n";
  std::vector<std::pair<std::string, MetricsTable>> curves;
  for (std::size_t r = 0; r < t.rows.size(); ++r)
    if (!t.runs[r]->metrics.rows.empty()) curves.emplace_back(t.legend[r], t.runs[r]->metrics);
  body += "<section>\n<h2>Curves</h2>\n<p class=\"lead\">Train solid, validation dashed; one colour per run.</p>\n";
  body +=
      curves.empty() ? "<p class=\"muted\">No run has finished an epoch yet.</p>\n" : inline_svg(curves_svg(curves));
  body += "</section>\n<footer class=\"muted\"><p>Written by nettrain " NETTRAIN_VERSION ".</p></footer>\n";
  return html_page(std::to_string(t.rows.size()) + " runs — nettrain compare", body, kSortScript);
}

}  // namespace nettrain::report
