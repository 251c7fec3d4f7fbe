// The report of one run (nettrain report, and report.html written after train): one
// self-contained HTML page, readable offline and printable. Header (name, times, command line,
// outcome), the layer table and the folded resolved config, the curves, and, when the model was
// run on test data, per-class metrics, the confusion heat map, top-k accuracy and, for image data,
// a gallery of the most confidently wrong test images; for regression, predicted vs true.
//
// report_html and write_report take the model's outputs as given; write_run_report runs the model.
#pragma once

#include <string>
#include <vector>

#include "nettrain/core/tensor.h"
#include "nettrain/data/data.h"
#include "nettrain/report/run_dir.h"
#include "nettrain/run/model_data.h"

namespace nettrain::report {

// The model of a run evaluated on a labelled dataset.
struct TestOutputs {
  const Dataset* data = nullptr;         // the samples (raw features for images), labels or targets
  Matrix outputs;                        // (samples, model outputs), raw (logits for classifiers)
  std::vector<std::int32_t> predicted;   // arg-max classes (classification)
  std::vector<std::string> class_names;  // K names ("0".."K-1" when the model has none)
  double loss = 0, accuracy = 0;
  std::int64_t top_k = 5;
};

// The page as a string.
std::string report_html(const RunData& run, const TestOutputs* test);

// Reads RUN_DIR and writes its report to `out_path` atomically ("" = RUN_DIR/report.html).
// Returns the path written. Throws IoError.
std::string write_report(const std::string& run_dir, const TestOutputs* test, const std::string& out_path = "");

// Evaluates the run's model on `data` (read as eval reads it) or, when `data` is empty, on the
// run's test set if it has one, and writes the report as write_report does. A run without a
// model yet (still going) gets a report without test results; asking it for `data` is an IoError.
std::string write_run_report(const std::string& run_dir, const DataSource& data = {}, std::int64_t top_k = 5,
                             const std::string& out_path = "");

}  // namespace nettrain::report
