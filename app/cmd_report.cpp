// nettrain report RUN_DIR and nettrain compare RUN_DIR...: the HTML report of a run (also written
// by train as RUN_DIR/report.html) and the comparison of several runs (text, JSON, CSV, HTML).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "nettrain/core/errors.h"
#include "nettrain/core/files.h"
#include "nettrain/report/compare.h"
#include "nettrain/report/report.h"
#include "table.h"
#include "threads.h"

namespace nettrain::app {

int cmd_report(const GlobalOptions& g, const ReportArgs& a) {
  use_threads(a.threads);
  const std::string path = report::write_run_report(a.run_dir, a.data, a.top_k, a.output);
  if (g.json) std::printf("%s\n", nlohmann::json{{"run", a.run_dir}, {"output", path}}.dump().c_str());
  else spdlog::info("wrote {}", path);
  return 0;
}

int cmd_compare(const GlobalOptions& g, const CompareArgs& a) {
  std::vector<report::RunData> runs;
  for (const auto& dir : a.runs) {
    try {
      runs.push_back(report::read_run(dir));
    } catch (const Error& e) {
      if (!a.skip_bad) throw;
      spdlog::warn("skipped: {}", e.what());
    }
  }
  if (runs.empty()) throw IoError("no run to compare: every folder given was skipped");
  const report::CompareTable t = report::compare_runs(runs, a.sort);
  if (!a.output.empty()) {
    write_file_atomic(a.output, report::compare_html(t));
    spdlog::info("wrote {} ({} runs)", a.output, t.rows.size());
  }
  if (g.json) {
    std::printf("%s\n", t.to_json().dump(2).c_str());
  } else if (a.csv) {
    std::printf("%s", t.to_csv().c_str());
  } else {
    Table table(t.columns);
    for (const auto& row : t.rows) {
      std::vector<std::string> cells;
      for (const auto& c : row) cells.push_back(c.text.empty() ? "-" : c.text);
      table.add(std::move(cells));
    }
    std::printf("%s", table.str().c_str());
  }
  return 0;
}

}  // namespace nettrain::app
