// nettrain report RUN_DIR and nettrain compare RUN_DIR...: the HTML report of a run (also written
// by train as RUN_DIR/report.html) and the comparison of several runs (text, JSON, CSV, HTML).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "model_data.h"
#include "nettrain/errors.h"
#include "nettrain/io.h"
#include "nettrain/report/compare.h"
#include "nettrain/report/report.h"
#include "table.h"
#include "threads.h"

namespace nettrain::app {

namespace {

namespace fs = std::filesystem;

bool has_data_flag(const DataArgs& a) { return !a.data.empty() || !a.images.empty() || !a.csv.empty(); }

// The run's model on the test data: what eval prints, kept for the report. Returns false when
// there is nothing to evaluate (no test set and no data flag).
bool evaluate_for_report(LoadedModel& m, const DataArgs& a, std::int64_t top_k, Dataset& d, report::TestOutputs& t) {
  const auto& data = m.config.json["data"];
  if (!has_data_flag(a) && (!data.contains("test") || data["test"].is_null())) return false;
  d = load_eval_data(m, a);
  t.data = &d;
  const EvalResult r = run_model(m, d, t.outputs, d.task == Task::classification ? &t.predicted : nullptr);
  t.loss = r.loss;
  t.accuracy = r.accuracy;
  t.class_names = class_labels(m);
  t.top_k = top_k;
  return true;
}

}  // namespace

std::string write_run_report(const std::string& run_dir, const DataArgs& data, std::int64_t top_k,
                             const std::string& output) {
  report::read_run(run_dir);  // a folder that is not a run is named as such before anything else
  const fs::path model_path = fs::path(run_dir) / "model.safetensors";
  if (!fs::exists(model_path)) {
    if (has_data_flag(data)) throw IoError(run_dir + ": no model.safetensors to evaluate (the run has not finished)");
    return report::write_report(run_dir, nullptr, output);
  }
  LoadedModel m = load_model(model_path.string());
  Dataset d;
  report::TestOutputs t;
  const bool tested = evaluate_for_report(m, data, top_k, d, t);
  return report::write_report(run_dir, tested ? &t : nullptr, output);
}

int cmd_report(const GlobalOptions& g, const ReportArgs& a) {
  use_threads(a.threads);
  const std::string path = write_run_report(a.run_dir, a.data, a.top_k, a.output);
  if (g.json)
    std::printf("%s\n", nlohmann::json{{"run", a.run_dir}, {"output", path}}.dump().c_str());
  else
    spdlog::info("wrote {}", path);
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
