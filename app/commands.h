// The subcommands of nettrain. Each returns the process exit code on success paths; errors
// propagate as nettrain::Error and are mapped to exit codes in main.cpp alone.
#pragma once

#include "nettrain/core/collective.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nettrain/run/model_data.h"

namespace nettrain::app {

struct GlobalOptions {
  bool quiet = false;
  bool json = false;
  std::string log_level = "info";
  // The processes of this run (mpirun), or one process; `train` splits its batches over them.
  nettrain::Collective* world = nullptr;
};

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string out;
  std::string resume;
  int threads = 0;  // 0: all cores
  std::optional<std::int64_t> seed;
  std::string command_line;  // as typed, recorded in summary.json
  bool no_cache = false;     // --no-cache: parse CSVs, neither read nor write the data cache
};
int cmd_train(const GlobalOptions& g, const TrainArgs& a);

using DataArgs = DataSource;  // --data, --images/--labels, --csv

struct EvalArgs {
  std::string model;
  bool best = false;  // the run's best.safetensors
  DataArgs data;
  bool confusion = false;
  std::int64_t top_k = 5;
  int threads = 0;
  bool no_cache = false;
};
int cmd_eval(const GlobalOptions& g, const EvalArgs& a);

struct PredictArgs {
  std::string model;
  bool best = false;  // the run's best.safetensors
  std::string input;
  std::string output;
  std::string label_column;
  bool probs = false;
  std::int64_t top_k = 1;
  int threads = 0;
  bool no_cache = false;
};
int cmd_predict(const GlobalOptions& g, const PredictArgs& a);

struct ValidateArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool no_cache = false;
};
int cmd_validate(const GlobalOptions& g, const ValidateArgs& a);

int cmd_inspect(const GlobalOptions& g, const std::string& model);

struct GradcheckArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::int64_t samples = 8;
  double tolerance = 1e-2;  // rtol
  double atol = -1;         // < 0: the float32 noise floor
  double step = 1e-3;
};
int cmd_gradcheck(const GlobalOptions& g, const GradcheckArgs& a);

int cmd_plot(const GlobalOptions& g, const std::vector<std::string>& runs, const std::string& output);

struct ReportArgs {
  std::string run_dir;
  std::string output;  // "" = RUN_DIR/report.html
  DataArgs data;       // test data other than the run's own, as in eval
  std::int64_t top_k = 5;
  int threads = 0;
  bool no_cache = false;
};
int cmd_report(const GlobalOptions& g, const ReportArgs& a);

struct CompareArgs {
  std::vector<std::string> runs;
  std::string sort;  // a column; "" = the monitored metric
  bool csv = false;
  std::string output;  // HTML page
  bool skip_bad = false;
};
int cmd_compare(const GlobalOptions& g, const CompareArgs& a);

struct ConvertArgs {
  std::string input;
  std::string labels;
  std::string to = "csv";
  std::vector<Index> shape;  // --shape H,W (CLI11 splits it at the commas)
  std::string label_column;
  std::string output;
};
int cmd_convert(const GlobalOptions& g, const ConvertArgs& a);

struct ExportArgs {
  std::string model;
  std::string output;
  int opset = 13;
  bool probabilities = false;
  std::int64_t batch = 0;  // 0: symbolic batch dimension
};
int cmd_export(const GlobalOptions& g, const ExportArgs& a);

}  // namespace nettrain::app
