// The report page of one run; see report.h. One function per section of the page.
#include "nettrain/report/report.h"

#include <cmath>
#include <filesystem>

#include "nettrain/core/errors.h"
#include "nettrain/core/files.h"
#include "nettrain/report/charts.h"
#include "nettrain/report/gallery.h"
#include "nettrain/report/html.h"
#include "nettrain/train/metrics.h"

namespace nettrain::report {

namespace {

std::string box(const std::string& label, const std::string& value) {
  return "<div>" + escape_html(label) + "<b>" + escape_html(value) + "</b></div>";
}

std::string summary_text(const nlohmann::json& s, const char* key) {
  if (!s.is_object() || !s.contains(key) || s[key].is_null()) return "";
  const auto& v = s[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : "\n") + (e.is_string() ? e.get<std::string>() : e.dump());
    return out;
  }
  return v.dump();
}

// The outcome in a row of boxes: test result, best epoch, how the run ended.
std::string outcome(const RunData& run, const TestOutputs* test) {
  std::string out = "<div class=\"outcome\">";
  const double acc = test ? test->accuracy : run.test("accuracy"), loss = test ? test->loss : run.test("loss");
  if (std::isfinite(acc)) out += box("test accuracy", fixed(acc, 4));
  if (std::isfinite(loss)) out += box("test loss", fixed(loss, 4));
  if (const auto best = run.best_epoch())
    out += box("best epoch (" + run.monitor() + " " + fixed(run.best_value(), 4) + ")", std::to_string(*best));
  const auto planned = run.config.value("/training/epochs"_json_pointer, std::int64_t{0});
  out += box(to_string(run.status),
             std::to_string(run.metrics.rows.size()) + " of " + std::to_string(planned) + " epochs");
  return out + "</div>\n";
}

std::string header(const RunData& run, const TestOutputs* test) {
  std::string out = "<header>\n<h1>" + escape_html(run.name) + "</h1>\n";
  if (run.config.contains("description") && run.config["description"].is_string())
    out += "<p class=\"lead\">" + escape_html(run.config["description"].get<std::string>()) + "</p>\n";
  out += outcome(run, test);
  const nlohmann::json& s = run.summary;
  std::vector<std::vector<std::string>> facts = {{"", ""}};
  const auto add = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) facts.push_back({k, v});
  };
  add("run directory", run.dir);
  add("started", run.started);
  add("finished", run.finished.empty() ? "not yet (no summary.json: still running, or stopped)" : run.finished);
  if (s.is_object()) {
    add("time", seconds_text(s.value("train_seconds", std::nan(""))) + " s training, " +
                    seconds_text(s.value("wall_seconds", std::nan(""))) + " s wall, " +
                    count(std::llround(s.value("samples_per_second", 0.0))) + " samples/s");
    add("threads", summary_text(s, "threads"));
    add("processes", summary_text(s, "processes"));
  }
  add("nettrain version", s.is_object() && s.contains("nettrain_version") ? summary_text(s, "nettrain_version")
                                                                          : std::string(NETTRAIN_VERSION));
  add("seed", run.config.contains("seed") ? run.config["seed"].dump() : "");
  add("command line", summary_text(s, "command_line"));
  add("--set overrides", summary_text(s, "overrides"));
  add("resumes", summary_text(s, "resumes"));
  out += html_table(facts, "facts");
  return out + "</header>\n";
}

std::string network(const RunData& run) {
  std::vector<std::vector<std::string>> rows = {{"layer", "type", "inputs", "output", "params", "settings"}};
  for (const auto& n : run.layers) {
    std::string inputs;
    for (const auto& in : n.inputs) inputs += (inputs.empty() ? "" : ",") + in;
    rows.push_back({n.name, n.type, inputs, n.output_shape.str(), count(n.params), n.settings});
  }
  return "<section>\n<h2>Network</h2>\n" + html_table(rows) + "<p>" + count(run.parameters) + " parameters (" +
         count(run.parameters * 4 / 1024) +
         " KiB as float32)</p>\n<details><summary>Resolved config "
         "(config.json)</summary><pre>" +
         escape_html(run.config.dump(2)) + "</pre></details>\n</section>\n";
}

std::string curves(const RunData& run) {
  std::string out = "<section>\n<h2>Training curves</h2>\n";
  if (run.metrics.rows.empty()) return out + "<p class=\"muted\">No epoch has finished yet.</p>\n</section>\n";
  out += inline_svg(run_curves_svg(run));
  if (const std::string more = schedule_and_steps_svg(run); !more.empty()) out += inline_svg(more);
  std::vector<std::vector<std::string>> rows = {run.metrics.columns};
  for (const auto& r : run.metrics.rows) {
    std::vector<std::string> cells;
    for (std::size_t c = 0; c < r.size(); ++c) cells.push_back(fixed(r[c], run.metrics.columns[c] == "epoch" ? 0 : 4));
    rows.push_back(std::move(cells));
  }
  return out + "<details><summary>metrics.csv</summary>" + html_table(rows) + "</details>\n</section>\n";
}

std::string classification(const RunData& run, const TestOutputs& t) {
  const ClassReport rep = classification_report(t.data->labels, t.predicted, t.class_names.size());
  const Index k = std::min<Index>(t.top_k, static_cast<Index>(t.class_names.size()));
  const double topk = t.outputs.cols() > 1 ? top_k_accuracy(t.outputs, t.data->labels, k) : t.accuracy;
  std::string out = "<div class=\"outcome\">" + box("loss", fixed(t.loss, 4)) + box("accuracy", fixed(t.accuracy, 4)) +
                    box("top-" + std::to_string(k) + " accuracy", fixed(topk, 4)) +
                    box("macro F1", fixed(rep.macro_f1, 4)) + "</div>\n";
  std::vector<std::vector<std::string>> rows = {{"class", "precision", "recall", "F1", "support"}};
  for (std::size_t c = 0; c < t.class_names.size(); ++c)
    rows.push_back({t.class_names[c], fixed(rep.precision[c], 4), fixed(rep.recall[c], 4), fixed(rep.f1[c], 4),
                    count(rep.support[c])});
  rows.push_back({"macro average", fixed(rep.macro_precision, 4), fixed(rep.macro_recall, 4), fixed(rep.macro_f1, 4),
                  count(static_cast<long long>(t.predicted.size()))});
  out += "<h3>Per class</h3>\n" + html_table(rows);
  out +=
      "<h3>Confusion matrix</h3>\n<p class=\"lead\">Rows: true class; columns: predicted. Shading: the share of "
      "the row (hits in blue, mistakes in orange on a square-root scale).</p>\n" +
      confusion_heatmap(rep.confusion, t.class_names);
  return out + gallery_html(t, image_shape(run, *t.data));
}

std::string regression(const TestOutputs& t) {
  double sq = 0, abs = 0;
  const Matrix& y = t.data->targets;
  for (Index i = 0; i < t.outputs.rows(); ++i)
    for (Index c = 0; c < t.outputs.cols(); ++c) {
      const double e = static_cast<double>(t.outputs(i, c)) - static_cast<double>(y(i, c));
      sq += e * e;
      abs += std::fabs(e);
    }
  const double n = static_cast<double>(std::max<Index>(1, t.outputs.size()));
  std::string out = "<div class=\"outcome\">" + box("loss (MSE)", fixed(t.loss, 5)) +
                    box("RMSE", fixed(std::sqrt(sq / n), 5)) + box("MAE", fixed(abs / n, 5)) + "</div>\n";
  for (const auto& svg : regression_svgs(t.outputs, y, t.data->target_names)) out += inline_svg(svg);
  return out;
}

std::string test_section(const RunData& run, const TestOutputs* t) {
  std::string out = "<section>\n<h2>Test results</h2>\n";
  if (!t || !t->data)
    return out +
           "<p class=\"muted\">No test results: the run has no test set (or no model yet). "
           "<code>nettrain report " +
           escape_html(run.dir) + " --data SPEC</code> evaluates it on other data.</p>\n</section>\n";
  out += "<p class=\"lead\">" + escape_html(t->data->source) + ", " + count(t->outputs.rows()) + " samples</p>\n";
  out += t->data->task == Task::regression ? regression(*t) : classification(run, *t);
  return out + "</section>\n";
}

}  // namespace

std::string report_html(const RunData& run, const TestOutputs* test) {
  const std::string body = header(run, test) + network(run) + curves(run) + test_section(run, test) +
                           "<footer class=\"muted\"><p>Written by nettrain " NETTRAIN_VERSION " from " +
                           escape_html(run.dir) + ".</p></footer>\n";
  return html_page(run.name + " — nettrain report", body);
}

std::string write_report(const std::string& run_dir, const TestOutputs* test, const std::string& out_path) {
  const RunData run = read_run(run_dir);
  const std::string path = out_path.empty() ? (std::filesystem::path(run_dir) / "report.html").string() : out_path;
  write_file_atomic(path, report_html(run, test));
  return path;
}

}  // namespace nettrain::report
