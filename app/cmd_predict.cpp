// nettrain predict MODEL --input F: one CSV row per sample: index, predicted class (name where
// the model has names), the next best classes with --top-k, probabilities with --probs.
// Regression models print their outputs instead.
#include <nlohmann/json.hpp>

#include <cstdio>

#include "commands.h"
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
}  // namespace

int cmd_predict(const GlobalOptions& g, const PredictArgs& a) {
  use_threads(a.threads);
  LoadedModel m = load_model(a.model);
  Dataset d = load_predict_data(m, a.input);
  Matrix z;
  run_model(m, d, z, nullptr);
  Matrix probs;
  m.loss->predict(z, probs);

  std::string csv;
  const bool regression = !m.loss->uses_labels();
  if (regression) {
    csv = "index";
    for (Index c = 0; c < z.cols(); ++c) csv += ",y" + std::to_string(c);
    csv += "\n";
    for (Index i = 0; i < z.rows(); ++i) {
      csv += std::to_string(i);
      for (Index c = 0; c < z.cols(); ++c) csv += "," + fmt(probs(i, c));
      csv += "\n";
    }
  } else {
    const std::vector<std::string> names = class_labels(m);
    const Index k = std::min<Index>(a.top_k, static_cast<Index>(names.size()));
    csv = "index,predicted";
    for (Index r = 2; r <= k; ++r) csv += ",top" + std::to_string(r);
    if (a.probs)
      for (const auto& n : names) csv += ",p_" + n;
    csv += "\n";
    std::vector<std::int32_t> best;
    argmax_rows(z, best);
    // A single sigmoid output: probability of class 1 is p, of class 0 is 1 - p.
    const bool binary = z.cols() == 1;
    for (Index i = 0; i < z.rows(); ++i) {
      csv += std::to_string(i);
      if (binary) {
        const std::int32_t c = best[static_cast<std::size_t>(i)];
        csv += "," + names[static_cast<std::size_t>(c)];
        if (k >= 2) csv += "," + names[static_cast<std::size_t>(1 - c)];
        if (a.probs) csv += "," + fmt(1.0f - probs(i, 0)) + "," + fmt(probs(i, 0));
      } else {
        for (std::int32_t c : top_k(z, i, k)) csv += "," + names[static_cast<std::size_t>(c)];
        if (a.probs)
          for (Index c = 0; c < probs.cols(); ++c) csv += "," + fmt(probs(i, c));
      }
      csv += "\n";
    }
  }
  if (a.output.empty()) {
    std::fwrite(csv.data(), 1, csv.size(), stdout);
  } else {
    write_file_atomic(a.output, csv);
    if (g.json)
      std::printf("%s\n", nlohmann::json{{"output", a.output}, {"samples", z.rows()}}.dump().c_str());
  }
  return 0;
}

}  // namespace nettrain::app
