// nettrain: the command-line entry point. CLI wiring and the one place where errors become exit
// codes (SPEC §2): 0 ok, 1 training failed, 2 usage/config, 3 data, 4 model file, 5 I/O.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <functional>
#include <iostream>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <memory>
#include <new>

#include "commands.h"
#include "log.h"
#include "nettrain/core/errors.h"
#include "nettrain/dist/world.h"
#include "nettrain/export/onnx.h"
#include "nettrain/layers/network.h"

using namespace nettrain::app;

namespace {

// One subcommand: its CLI11 parser and how to run it once parsed.
struct Command {
  CLI::App* cli;
  std::function<int()> run;
};

void add_global(CLI::App* cmd, GlobalOptions& g) {
  cmd->add_flag("-q,--quiet", g.quiet, "only errors on stderr, no progress");
  cmd->add_option("--log-level", g.log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
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

// `nettrain compare` when there is no such command: say so and list the commands, rather than
// CLI11's "A subcommand is required". Returns the message, or "" when argv[1] is fine.
std::string unknown_command(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return "";
  const std::string word = argv[1];
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == word) return "";
    names.push_back(sub->get_name());
  }
  return fmt::format("unknown command '{}'; the commands are: {} (nettrain --help)", word, fmt::join(names, ", "));
}

void add_threads(CLI::App* cmd, int& threads) {
  cmd->add_option("--threads", threads, "threads (default: all cores)")->check(CLI::Range(1, 1024));
}

void add_no_cache(CLI::App* cmd, bool& no_cache) {
  cmd->add_flag("--no-cache", no_cache, "parse CSV data every time: neither read nor write the data cache");
}

// The command line as a shell would take it back: arguments with spaces or quotes are quoted.
std::string command_line(int argc, char** argv) {
  std::vector<std::string> words;
  for (int i = 0; i < argc; ++i) {
    std::string w = argv[i];
    if (w.empty() || w.find_first_of(" \t\n'\"\\$`*?[]{}();&|<>!#~") != std::string::npos) {
      std::string q = "'";
      for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      w = q + "'";
    }
    words.push_back(std::move(w));
  }
  return fmt::format("{}", fmt::join(words, " "));
}

Command add_train(CLI::App& app, GlobalOptions& g, std::string line) {
  auto a = std::make_shared<TrainArgs>();
  a->command_line = std::move(line);
  auto* c = app.add_subcommand("train", "train a network; writes a run directory");
  c->add_option("config", a->config, "config file (JSON); not with --resume");
  c->add_option("--set", a->overrides, "override a config value: PATH=VALUE (repeatable)");
  c->add_option("--out", a->out, "run directory (default runs/<name>-<YYYYmmdd-HHMMSS>)");
  c->add_option("--resume", a->resume, "continue the stopped run in this run directory");
  add_threads(c, a->threads);
  c->add_option("--seed", a->seed, "override the config's seed (not with --resume)");
  add_no_cache(c, a->no_cache);
  add_global(c, g);
  return {c, [&g, a] {
            if (a->config.empty() && a->resume.empty())
              throw nettrain::ConfigError("train needs a CONFIG file (or --resume RUN_DIR); see nettrain train --help");
            return cmd_train(g, *a);
          }};
}

Command add_eval(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<EvalArgs>();
  auto* c = app.add_subcommand("eval", "loss, accuracy, per-class metrics of a saved model");
  c->add_option("model", a->model, "model .safetensors or run directory")->required();
  c->add_option("--data", a->data.data, "data spec as JSON (inline or a file), as in a config's data.test");
  c->add_option("--images", a->data.images, "IDX images");
  c->add_option("--labels", a->data.labels, "IDX labels (with --images)");
  c->add_option("--csv", a->data.csv, "CSV file with a label column");
  c->add_option("--label-column", a->data.label_column,
                "label column of CSV data, name or 0-based index (default: the model's, else the column named label, "
                "else the last)");
  c->add_flag("--confusion", a->confusion, "print the confusion matrix");
  c->add_flag("--best", a->best, "use the run's best.safetensors (MODEL is a run directory)");
  c->add_option("--top-k", a->top_k, "also report top-k accuracy")->check(kAtLeastOne)->capture_default_str();
  add_threads(c, a->threads);
  add_no_cache(c, a->no_cache);
  add_global(c, g);
  return {c, [&g, a] { return cmd_eval(g, *a); }};
}

Command add_predict(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<PredictArgs>();
  auto* c = app.add_subcommand("predict", "predict classes (and probabilities) for new samples");
  c->add_option("model", a->model, "model .safetensors or run directory")->required();
  c->add_option("--input", a->input, "IDX images or CSV (label column optional)")->required();
  c->add_option("--output", a->output, "CSV to write (default: stdout)");
  c->add_option("--label-column", a->label_column,
                "label column of a CSV input, name or index (default: as eval; the column count tells whether it is "
                "there)");
  c->add_flag("--probs", a->probs, "add one probability column per class");
  c->add_flag("--best", a->best, "use the run's best.safetensors (MODEL is a run directory)");
  c->add_option("--top-k", a->top_k, "the k best classes per sample")->check(kAtLeastOne)->capture_default_str();
  add_threads(c, a->threads);
  add_no_cache(c, a->no_cache);
  add_global(c, g);
  return {c, [&g, a] { return cmd_predict(g, *a); }};
}

Command add_validate(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<ValidateArgs>();
  auto* c = app.add_subcommand("validate", "check a config and its data headers; print the layer table");
  c->add_option("config", a->config, "config file (JSON)")->required();
  c->add_option("--set", a->overrides, "override a config value: PATH=VALUE (repeatable)");
  add_no_cache(c, a->no_cache);
  add_global(c, g);
  return {c, [&g, a] { return cmd_validate(g, *a); }};
}

Command add_inspect(CLI::App& app, GlobalOptions& g) {
  auto model = std::make_shared<std::string>();
  auto* c = app.add_subcommand("inspect", "tensors, shapes, metadata and architecture of a saved model");
  c->add_option("model", *model, "model .safetensors or run directory")->required();
  add_global(c, g);
  return {c, [&g, model] { return cmd_inspect(g, *model); }};
}

Command add_gradcheck(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<GradcheckArgs>();
  auto* c = app.add_subcommand("gradcheck", "compare backprop with central differences on real samples");
  c->add_option("config", a->config, "config file (JSON)")->required();
  c->add_option("--set", a->overrides, "override a config value: PATH=VALUE (repeatable)");
  c->add_option("--samples", a->samples, "samples from the training data")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  c->add_option("--tolerance", a->tolerance, "relative tolerance rtol")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  c->add_option("--atol", a->atol, "absolute tolerance (default: the float32 noise floor of the loss)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--step", a->step, "step h of the finite differences")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_global(c, g);
  return {c, [&g, a] { return cmd_gradcheck(g, *a); }};
}

Command add_plot(CLI::App& app, GlobalOptions& g) {
  auto runs = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>("curves.svg");
  auto* c = app.add_subcommand("plot", "draw the curves of one or several runs in one SVG");
  c->add_option("runs", *runs, "run directories")->required();
  c->add_option("-o,--output", *out, "SVG file to write")->capture_default_str();
  add_global(c, g);
  return {c, [&g, runs, out] { return cmd_plot(g, *runs, *out); }};
}

Command add_convert(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<ConvertArgs>();
  auto* c = app.add_subcommand("convert", "IDX -> CSV, or CSV -> IDX with --to idx");
  c->add_option("input", a->input, "IDX images file or CSV file")->required();
  c->add_option("--labels", a->labels, "IDX labels to add as the label column (IDX -> CSV)");
  c->add_option("--to", a->to, "output format: csv (for IDX input) or idx")
      ->check(CLI::IsMember({"csv", "idx"}))
      ->capture_default_str();
  c->add_option("--shape", a->shape, "H,W for the IDX image dimensions (CSV -> IDX)")->delimiter(',')->type_name("H,W");
  c->add_option("--label-column", a->label_column,
                "label column name or index (CSV -> IDX; default: the column named label, else the last)");
  c->add_option("-o,--output", a->output, "output CSV file, or PREFIX for IDX")->required();
  add_global(c, g);
  return {c, [&g, a] { return cmd_convert(g, *a); }};
}

Command add_export(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<ExportArgs>();
  auto* c = app.add_subcommand("export", "write the model as an ONNX graph, preprocessing included");
  c->add_option("model", a->model, "model .safetensors or run directory")->required();
  c->add_option("-o,--output", a->output, "ONNX file to write")->required();
  c->add_option("--opset", a->opset, "ONNX opset")
      ->check(CLI::Range(nettrain::kOnnxMinOpset, nettrain::kOnnxMaxOpset))
      ->capture_default_str();
  c->add_flag("--probabilities", a->probabilities,
              "add a \"probabilities\" output (softmax, or sigmoid for a binary model)");
  c->add_option("--batch", a->batch, "fix the batch size (default: dynamic)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 31));
  add_global(c, g);
  return {c, [&g, a] { return cmd_export(g, *a); }};
}

Command add_report(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<ReportArgs>();
  auto* c = app.add_subcommand("report", "one self-contained HTML page of a run");
  c->add_option("run_dir", a->run_dir, "run directory")->required();
  c->add_option("-o,--output", a->output, "HTML file to write (default RUN_DIR/report.html)");
  c->add_option("--data", a->data.data, "test data spec as JSON (inline or a file), as in eval");
  c->add_option("--images", a->data.images, "IDX test images");
  c->add_option("--labels", a->data.labels, "IDX test labels (with --images)");
  c->add_option("--csv", a->data.csv, "CSV test file with a label column");
  c->add_option("--top-k", a->top_k, "top-k accuracy to report")->check(CLI::PositiveNumber)->capture_default_str();
  c->add_option("--threads", a->threads, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  add_global(c, g);
  return {c, [&g, a] { return cmd_report(g, *a); }};
}

Command add_compare(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<CompareArgs>();
  auto* c = app.add_subcommand("compare", "one row per run: the config keys that differ, best epoch, results");
  c->add_option("runs", a->runs, "run directories")->required();
  c->add_option("--sort", a->sort, "column to sort by (default: best_<monitored metric>)");
  c->add_flag("--csv", a->csv, "print CSV instead of a text table");
  c->add_option("-o,--output", a->output, "also write an HTML page (sortable table, overlaid curves)");
  c->add_flag("--skip-bad", a->skip_bad, "skip folders that are not readable runs (with a warning)");
  add_global(c, g);
  return {c, [&g, a] {
            if (a->csv && g.json) throw nettrain::ConfigError("compare: give --json or --csv, not both");
            return cmd_compare(g, *a);
          }};
}

// An error of this process. Under mpirun an error all processes raised together is printed by
// rank 0 alone and every process exits with its code; one this process alone saw is printed with
// its rank and ends the whole job (the others would wait for it forever).
int fail(const GlobalOptions& g, const std::string& message, int code) {
  const nettrain::Collective* w = g.world;
  if (w == nullptr || w->size() == 1) {
    report_error(message);
    return code;
  }
  if (w->agreed_failure()) {
    if (w->rank() == 0) report_error(message);
    return code;
  }
  report_error(fmt::format("rank {} of {}: {}", w->rank(), w->size(), message));
  nettrain::dist::abort_world(code);
}

// Runs the parsed subcommand; library errors become their exit codes here and nowhere else.
int run_command(const std::vector<Command>& commands, const GlobalOptions& g) {
  try {
    for (const Command& c : commands)
      if (c.cli->parsed()) return c.run();
  } catch (const nettrain::Error& e) {
    return fail(g, e.what(), e.exit_code());
  } catch (const std::bad_alloc&) {
    return fail(g, "out of memory", 1);
  } catch (const std::exception& e) {
    return fail(g, std::string("internal error: ") + e.what(), 1);
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // Batch-sized buffers are reallocated whenever the batch size changes (an epoch's last, short
  // batch; evaluation's blocks). glibc raises its mmap threshold each time such a block is freed,
  // so the next ones come from the heap and fragment it: a 20-epoch CNN run grew from 228 to
  // 283 MB. A fixed threshold keeps every block of 1 MB or more in its own mapping, returned to
  // the system when freed.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
  CLI::App app{"nettrain: train neural networks from JSON configs, from the terminal"};
  app.set_version_flag("--version",
                       std::string("nettrain ") + NETTRAIN_VERSION + "\nBLAS: " + nettrain::blas_description());
  app.require_subcommand(1);
  GlobalOptions g;
  const std::vector<Command> commands = {add_train(app, g, command_line(argc, argv)),
                                         add_eval(app, g),
                                         add_predict(app, g),
                                         add_validate(app, g),
                                         add_inspect(app, g),
                                         add_gradcheck(app, g),
                                         add_plot(app, g),
                                         add_convert(app, g),
                                         add_export(app, g),
                                         add_report(app, g),
                                         add_compare(app, g)};
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
  std::unique_ptr<nettrain::Collective> world;
  try {
    world = nettrain::dist::join_world();
  } catch (const nettrain::Error& e) {
    report_error(e.what());
    return e.exit_code();
  }
  g.world = world.get();
  if (world->rank() != 0) {  // the other ranks print errors only
    g.quiet = true;
    g.json = false;
  }
  setup_logging(g);
  return run_command(commands, g);
}
