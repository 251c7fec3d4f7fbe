// nettrain: the command-line entry point. CLI wiring and the one place where errors become exit
// codes (SPEC §2): 0 ok, 1 training failed, 2 usage/config, 3 data, 4 model file, 5 I/O.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>
#include <new>

#include "commands.h"
#include "log.h"
#include "nettrain/core/errors.h"
#include "nettrain/export/onnx.h"

using namespace nettrain::app;

namespace {

void add_global(CLI::App* cmd, GlobalOptions& g) {
  cmd->add_flag("-q,--quiet", g.quiet, "only errors on stderr, no progress");
  cmd->add_option("--log-level", g.log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cmd->add_flag("--json", g.json, "print one JSON object on stdout (logs stay on stderr)");
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
  c_eval->add_flag("--confusion", eval.confusion, "print the confusion matrix");
  c_eval->add_option("--top-k", eval.top_k, "also report top-k accuracy (default 5)")->check(CLI::PositiveNumber);
  c_eval->add_option("--threads", eval.threads, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  add_global(c_eval, g);

  PredictArgs predict;
  auto* c_predict = app.add_subcommand("predict", "predict classes (and probabilities) for new samples");
  c_predict->add_option("model", predict.model, "model .safetensors or run directory")->required();
  c_predict->add_option("--input", predict.input, "IDX images or CSV (label column optional)")->required();
  c_predict->add_option("--output", predict.output, "CSV to write (default: stdout)");
  c_predict->add_flag("--probs", predict.probs, "add one probability column per class");
  c_predict->add_option("--top-k", predict.top_k, "the k best classes per sample")->check(CLI::PositiveNumber);
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
  c_grad->add_option("--tolerance", gradcheck.tolerance, "max relative error allowed (default 1e-2)")
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
  c_convert->add_option("--label-column", convert.label_column, "label column name or index (CSV -> IDX; default last)");
  c_convert->add_option("-o,--output", convert.output, "output CSV file, or PREFIX for IDX")->required();
  add_global(c_convert, g);

  ExportArgs export_args;
  auto* c_export = app.add_subcommand("export", "write the model as an ONNX graph, preprocessing included");
  c_export->add_option("model", export_args.model, "model .safetensors or run directory")->required();
  c_export->add_option("-o,--output", export_args.output, "ONNX file to write")->required();
  c_export->add_option("--opset", export_args.opset, "ONNX opset (default 13)")
      ->check(CLI::Range(nettrain::kOnnxMinOpset, nettrain::kOnnxMaxOpset));
  c_export->add_flag("--probabilities", export_args.probabilities,
                     "add a \"probabilities\" output (softmax, or sigmoid for a binary model)");
  c_export->add_option("--batch", export_args.batch, "fix the batch size (default: dynamic)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 31));
  add_global(c_export, g);

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
    if (*c_export) return cmd_export(g, export_args);
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
