// nettrain eval MODEL: loss, accuracy, top-k accuracy, per-class precision/recall/F1 and the
// confusion matrix on a labelled dataset.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

#include "commands.h"
#include "nettrain/data/data.h"
#include "nettrain/run/model_data.h"
#include "nettrain/train/metrics.h"
#include "nettrain/train/trainer.h"
#include "table.h"
#include "threads.h"

namespace nettrain::app {

namespace {
nlohmann::json json_num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
}  // namespace

int cmd_eval(const GlobalOptions& g, const EvalArgs& a) {
  set_data_cache(!a.no_cache);
  use_threads(a.threads);
  LoadedModel m = load_model(a.best ? best_model_path(a.model) : a.model);
  Dataset d = load_eval_data(m, a.data);
  std::vector<std::int32_t> predicted;
  Matrix outputs;
  const EvalResult r = run_model(m, d, outputs, &predicted);

  nlohmann::json out = {
      {"model", m.file.path()}, {"data", d.source}, {"samples", r.samples}, {"loss", json_num(r.loss)}};
  if (d.task == Task::regression) {
    double sq = 0, abs = 0;
    for (Index i = 0; i < outputs.rows(); ++i)
      for (Index c = 0; c < outputs.cols(); ++c) {
        const double e = static_cast<double>(outputs(i, c)) - static_cast<double>(d.targets(i, c));
        sq += e * e;
        abs += std::fabs(e);
      }
    const double n = static_cast<double>(outputs.size());
    out["rmse"] = std::sqrt(sq / n);
    out["mae"] = abs / n;
    if (g.json) {
      std::printf("%s\n", out.dump(2).c_str());
    } else {
      std::printf("%s on %s (%lld samples)\nloss (mse) %.6f  rmse %.6f  mae %.6f\n", m.file.path().c_str(),
                  d.source.c_str(), static_cast<long long>(r.samples), r.loss, out["rmse"].get<double>(),
                  out["mae"].get<double>());
    }
    return 0;
  }

  const std::vector<std::string> names = class_labels(m);
  const ClassReport rep = classification_report(d.labels, predicted, names.size());
  const Index k = std::min<Index>(a.top_k, static_cast<Index>(names.size()));
  const double topk = top_k_accuracy(outputs, d.labels, k);
  out["accuracy"] = json_num(r.accuracy);
  out["top_k"] = {{"k", k}, {"accuracy", topk}};
  nlohmann::json classes = nlohmann::json::array();
  for (std::size_t c = 0; c < names.size(); ++c)
    classes.push_back({{"class", names[c]},
                       {"precision", rep.precision[c]},
                       {"recall", rep.recall[c]},
                       {"f1", rep.f1[c]},
                       {"support", rep.support[c]}});
  out["classes"] = classes;
  out["macro"] = {{"precision", rep.macro_precision}, {"recall", rep.macro_recall}, {"f1", rep.macro_f1}};
  out["weighted_f1"] = rep.weighted_f1;
  out["confusion"] = rep.confusion;
  if (g.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%s on %s (%lld samples)\n", m.file.path().c_str(), d.source.c_str(), static_cast<long long>(r.samples));
  std::printf("loss %.4f  accuracy %.4f  top-%lld accuracy %.4f\n\n", r.loss, r.accuracy, static_cast<long long>(k),
              topk);
  Table t({"class", "precision", "recall", "f1", "support"});
  for (std::size_t c = 0; c < names.size(); ++c)
    t.add({names[c], fmt_fixed(rep.precision[c], 4), fmt_fixed(rep.recall[c], 4), fmt_fixed(rep.f1[c], 4),
           std::to_string(rep.support[c])});
  t.add({"macro avg", fmt_fixed(rep.macro_precision, 4), fmt_fixed(rep.macro_recall, 4), fmt_fixed(rep.macro_f1, 4),
         std::to_string(r.samples)});
  std::printf("%s", t.str().c_str());
  if (a.confusion) {
    std::vector<std::string> header = {"true \\ predicted"};
    for (const auto& n : names) header.push_back(n);
    Table cm(header);
    for (std::size_t i = 0; i < names.size(); ++i) {
      std::vector<std::string> row = {names[i]};
      for (std::size_t j = 0; j < names.size(); ++j) row.push_back(std::to_string(rep.confusion[i][j]));
      cm.add(row);
    }
    std::printf("\nconfusion matrix (rows: true class, columns: predicted)\n%s", cm.str().c_str());
  }
  return 0;
}

}  // namespace nettrain::app
