// write_run_report: the run's model on its test data (what eval computes), then the report.
#include <filesystem>

#include "nettrain/core/errors.h"
#include "nettrain/report/report.h"
#include "nettrain/run/model_file.h"

namespace nettrain::report {

namespace {

bool has_data(const DataSource& a) { return !a.data.empty() || !a.images.empty() || !a.csv.empty(); }

// Fills `t` (pointing at `d`) with the model's outputs on the test data; false when there is no
// test data (no test set in the config and nothing in `source`).
bool evaluate(LoadedModel& m, const DataSource& source, std::int64_t top_k, Dataset& d, TestOutputs& t) {
  const auto& data = m.config.json["data"];
  if (!has_data(source) && (!data.contains("test") || data["test"].is_null())) return false;
  d = load_eval_data(m, source);
  t.data = &d;
  const EvalResult r = run_model(m, d, t.outputs, d.task == Task::classification ? &t.predicted : nullptr);
  t.loss = r.loss;
  t.accuracy = r.accuracy;
  t.class_names = class_labels(m);
  t.top_k = top_k;
  return true;
}

}  // namespace

std::string write_run_report(const std::string& run_dir, const DataSource& data, std::int64_t top_k,
                             const std::string& out_path) {
  read_run(run_dir);  // a folder that is not a run is named as such before its model is opened
  const std::filesystem::path model_path = std::filesystem::path(run_dir) / "model.safetensors";
  if (!std::filesystem::exists(model_path)) {
    if (has_data(data)) throw IoError(run_dir + ": no model.safetensors to evaluate (the run has not finished)");
    return write_report(run_dir, nullptr, out_path);
  }
  LoadedModel m = load_model(model_path.string());
  Dataset d;
  TestOutputs t;
  const bool tested = evaluate(m, data, top_k, d, t);
  return write_report(run_dir, tested ? &t : nullptr, out_path);
}

}  // namespace nettrain::report
