// nettrain predict MODEL --input F: one row per sample: index, predicted class (name where the
// model has names), the next best classes with --top-k, probabilities with --probs. Regression
// models give their outputs instead. CSV by default (to --output or stdout); with --json and no
// --output, one JSON object {"model", "input", "samples", "predictions": [...]} on stdout.
#include <nlohmann/json.hpp>

#include <cstdio>

#include "commands.h"
#include "nettrain/data/data.h"
#include "nettrain/run/model_data.h"
#include "nettrain/core/files.h"
#include "nettrain/train/metrics.h"
#include "nettrain/train/trainer.h"
#include "threads.h"

namespace nettrain::app {

namespace {

std::string fmt(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", static_cast<double>(v));
  return buf;
}

// Both outputs are built row by row from the same values, so the CSV and the JSON agree.
struct Rows {
  std::string csv;
  nlohmann::json json = nlohmann::json::array();
};

Rows regression_rows(const Matrix& y) {
  Rows r;
  r.csv = "index";
  for (Index c = 0; c < y.cols(); ++c) r.csv += ",y" + std::to_string(c);
  r.csv += "\n";
  for (Index i = 0; i < y.rows(); ++i) {
    r.csv += std::to_string(i);
    std::vector<float> out;
    for (Index c = 0; c < y.cols(); ++c) {
      r.csv += "," + fmt(y(i, c));
      out.push_back(y(i, c));
    }
    r.csv += "\n";
    r.json.push_back({{"index", i}, {"outputs", out}});
  }
  return r;
}

// z: raw outputs (samples, classes), or (samples, 1) for one sigmoid logit; probs: the loss's
// probabilities of the same shape (for one logit, p of class 1).
Rows class_rows(const Matrix& z, const Matrix& probs, const std::vector<std::string>& names, Index top,
                bool with_probs) {
  const Index k = std::min<Index>(top, static_cast<Index>(names.size()));
  Rows r;
  r.csv = "index,predicted";
  for (Index c = 2; c <= k; ++c) r.csv += ",top" + std::to_string(c);
  if (with_probs)
    for (const auto& n : names) r.csv += ",p_" + n;
  r.csv += "\n";
  std::vector<float> p(names.size());
  for (Index i = 0; i < z.rows(); ++i) {
    const std::vector<std::int32_t> best = top_k(z, i, k);
    nlohmann::json row = {{"index", i}, {"predicted", names[static_cast<std::size_t>(best[0])]}};
    r.csv += std::to_string(i);
    std::vector<std::string> ranked;
    for (std::int32_t c : best) {
      r.csv += "," + names[static_cast<std::size_t>(c)];
      ranked.push_back(names[static_cast<std::size_t>(c)]);
    }
    if (k > 1) row["top_k"] = ranked;
    if (with_probs) {
      if (z.cols() == 1) p = {1.0f - probs(i, 0), probs(i, 0)};
      else
        for (Index c = 0; c < probs.cols(); ++c) p[static_cast<std::size_t>(c)] = probs(i, c);
      nlohmann::json by_name = nlohmann::json::object();
      for (std::size_t c = 0; c < p.size(); ++c) {
        r.csv += "," + fmt(p[c]);
        by_name[names[c]] = p[c];
      }
      row["probabilities"] = by_name;
    }
    r.csv += "\n";
    r.json.push_back(std::move(row));
  }
  return r;
}

}  // namespace

int cmd_predict(const GlobalOptions& g, const PredictArgs& a) {
  set_data_cache(!a.no_cache);
  use_threads(a.threads);
  LoadedModel m = load_model(a.best ? best_model_path(a.model) : a.model);
  Dataset d = load_predict_data(m, a.input, a.label_column);
  Matrix z;
  run_model(m, d, z, nullptr);
  Matrix probs;
  m.loss->predict(z, probs);

  const Rows rows =
      m.loss->uses_labels() ? class_rows(z, probs, class_labels(m), a.top_k, a.probs) : regression_rows(probs);
  if (!a.output.empty()) {
    write_file_atomic(a.output, rows.csv);
    if (g.json) std::printf("%s\n", nlohmann::json{{"output", a.output}, {"samples", z.rows()}}.dump().c_str());
  } else if (g.json) {
    const nlohmann::json out = {
        {"model", m.file.path()}, {"input", a.input}, {"samples", z.rows()}, {"predictions", rows.json}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::fwrite(rows.csv.data(), 1, rows.csv.size(), stdout);
  }
  return 0;
}

}  // namespace nettrain::app
