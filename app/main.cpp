// nettrain: the command-line entry point. CLI wiring and the one place where errors become exit
// codes (SPEC §2): 0 ok, 1 training failed, 2 usage/config, 3 data, 4 model file, 5 I/O.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <iostream>
#include <new>

#include "commands.h"
#include "log.h"
#include "nettrain/core/errors.h"

using namespace nettrain::app;

namespace {

void add_global(CLI::App* cmd, GlobalOptions& g) {
  cmd->add_flag("-q,--quiet", g.quiet, "only errors on stderr, no progress");
  cmd->add_option("--log-level", g.log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cmd->add_flag("--json", g.json, "print one JSON object on stdout (logs stay on stderr)");
}

// --top-k and the like: an integer >= 1, with a message that says so (CLI11's PositiveNumber
// prints the whole double range).
const CLI::Validator kAtLeastOne(
    [](std::string& s) -> std::string {
      long long v = 0;
      const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && p == s.data() + s.size() && v >= 1) return "";
      return "expected an integer >= 1, got " + s;
    },
    "INT >= 1");

// `nettrain compare` (not a command): say so and list the commands, rather than CLI11's
// "A subcommand is required". Returns the message, or "" when argv[1] is fine.
std::string unknown_command(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return "";
  const std::string word = argv[1];
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == word) return "";
    names.push_back(sub->get_name());
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return "unknown command '" + word + "'; the commands are: " + list + " (nettrain --help)";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nettrain: train neural networks from JSON configs, from the terminal"};
  app.set_version_flag("--version", std::string("nettrain ") + NETTRAIN_VERSION);
  app.require_subcommand(1);
  GlobalOptions g;

  TrainArgs train;
  auto* c_train = app.add_subcommand("train", "train a network; writes a run directory");
  c_train->add_option("config", train.config, "config file (JSON); optional with --resume");
  c_train->add_option("--set", train.overrides, "override a config value: PATH=VALUE (repeatable)");
  c_train->add_option("--out", train.out, "run directory (default runs/<name>-<YYYYmmdd-HHMMSS>)");
  c_train->add_option("--resume", train.resume, "continue the stopped run in this run directory");
  c_train->add_option("--threads", train.threads, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  c_train->add_option("--seed", train.seed, "override the config's seed");
  add_global(c_train, g);

  EvalArgs eval;
  auto* c_eval = app.add_subcommand("eval", "loss, accuracy, per-class metrics of a saved model");
  c_eval->add_option("model", eval.model, "model .safetensors or run directory")->required();
  c_eval->add_option("--data", eval.data.data, "data spec as JSON (inline or a file), as in a config's data.test");
  c_eval->add_option("--images", eval.data.images, "IDX images");
  c_eval->add_option("--labels", eval.data.labels, "IDX labels (with --images)");
  c_eval->add_option("--csv", eval.data.csv, "CSV file with a label column");
  c_eval->add_option("--label-column", eval.data.label_column,
                     "label column of CSV data, name or 0-based index (default: the model's, else the column named "
                     "label, else the last)");
  c_eval->add_flag("--confusion", eval.confusion, "print the confusion matrix");
  c_eval->add_option("--top-k", eval.top_k, "also report top-k accuracy (default 5)")->check(kAtLeastOne);
  c_eval->add_option("--threads", eval.threads, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  add_global(c_eval, g);

  PredictArgs predict;
  auto* c_predict = app.add_subcommand("predict", "predict classes (and probabilities) for new samples");
  c_predict->add_option("model", predict.model, "model .safetensors or run directory")->required();
  c_predict->add_option("--input", predict.input, "IDX images or CSV (label column optional)")->required();
  c_predict->add_option("--output", predict.output, "CSV to write (default: stdout)");
  c_predict->add_option("--label-column", predict.label_column,
                        "label column of a CSV input, name or index (default: as eval; the column count tells "
                        "whether it is there)");
  c_predict->add_flag("--probs", predict.probs, "add one probability column per class");
  c_predict->add_option("--top-k", predict.top_k, "the k best classes per sample")->check(kAtLeastOne);
  c_predict->add_option("--threads", predict.threads, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  add_global(c_predict, g);

  ValidateArgs validate;
  auto* c_validate = app.add_subcommand("validate", "check a config and its data headers; print the layer table");
  c_validate->add_option("config", validate.config, "config file (JSON)")->required();
  c_validate->add_option("--set", validate.overrides, "override a config value: PATH=VALUE (repeatable)");
  add_global(c_validate, g);

  std::string inspect_model;
  auto* c_inspect = app.add_subcommand("inspect", "tensors, shapes, metadata and architecture of a saved model");
  c_inspect->add_option("model", inspect_model, "model .safetensors or run directory")->required();
  add_global(c_inspect, g);

  GradcheckArgs gradcheck;
  auto* c_grad = app.add_subcommand("gradcheck", "compare backprop with central differences on real samples");
  c_grad->add_option("config", gradcheck.config, "config file (JSON)")->required();
  c_grad->add_option("--set", gradcheck.overrides, "override a config value: PATH=VALUE (repeatable)");
  c_grad->add_option("--samples", gradcheck.samples, "samples from the training data (default 8)")
      ->check(CLI::Range(1, 4096));
  c_grad->add_option("--tolerance", gradcheck.tolerance, "relative tolerance rtol (default 1e-2)")
      ->check(CLI::PositiveNumber);
  c_grad->add_option("--atol", gradcheck.atol, "absolute tolerance (default: the float32 noise floor of the loss)")
      ->check(CLI::NonNegativeNumber);
  c_grad->add_option("--step", gradcheck.step, "step h of the finite differences (default 1e-3)")
      ->check(CLI::PositiveNumber);
  add_global(c_grad, g);

  std::vector<std::string> plot_runs;
  std::string plot_out = "curves.svg";
  auto* c_plot = app.add_subcommand("plot", "draw the curves of one or several runs in one SVG");
  c_plot->add_option("runs", plot_runs, "run directories")->required();
  c_plot->add_option("-o,--output", plot_out, "SVG file to write (default curves.svg)");
  add_global(c_plot, g);

  ConvertArgs convert;
  auto* c_convert = app.add_subcommand("convert", "IDX -> CSV, or CSV -> IDX with --to idx");
  c_convert->add_option("input", convert.input, "IDX images file or CSV file")->required();
  c_convert->add_option("--labels", convert.labels, "IDX labels to add as the label column (IDX -> CSV)");
  c_convert->add_option("--to", convert.to, "output format: csv (default for IDX input) or idx")
      ->check(CLI::IsMember({"csv", "idx"}));
  c_convert->add_option("--shape", convert.shape, "H,W for the IDX image dimensions (CSV -> IDX)");
  c_convert->add_option("--label-column", convert.label_column, "label column name or index (CSV -> IDX; default: the column named label, else the last)");
  c_convert->add_option("-o,--output", convert.output, "output CSV file, or PREFIX for IDX")->required();
  add_global(c_convert, g);

  if (const std::string msg = unknown_command(app, argc, argv); !msg.empty()) {
    report_error(msg);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    setup_logging(g);
    if (*c_train) {
      if (train.config.empty() && train.resume.empty())
        throw nettrain::ConfigError("train needs a CONFIG file (or --resume RUN_DIR); see nettrain train --help");
      return cmd_train(g, train);
    }
    if (*c_eval) return cmd_eval(g, eval);
    if (*c_predict) return cmd_predict(g, predict);
    if (*c_validate) return cmd_validate(g, validate);
    if (*c_inspect) return cmd_inspect(g, inspect_model);
    if (*c_grad) return cmd_gradcheck(g, gradcheck);
    if (*c_plot) return cmd_plot(g, plot_runs, plot_out);
    if (*c_convert) return cmd_convert(g, convert);
  } catch (const nettrain::Error& e) {
    report_error(e.what());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    report_error("out of memory");
    return 1;
  } catch (const std::exception& e) {
    report_error(std::string("internal error: ") + e.what());
    return 1;
  }
  return 2;
}
