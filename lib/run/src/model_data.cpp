#include "nettrain/run/model_data.h"

#include <filesystem>
#include <fstream>
#include <map>

#include "nettrain/core/errors.h"
#include "nettrain/core/files.h"
#include "nettrain/run/fit.h"

namespace nettrain {

namespace {

bool looks_like_idx(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError("cannot open " + path);
  std::string head(4, '\0');
  f.read(head.data(), 4);
  head.resize(static_cast<std::size_t>(f.gcount()));
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b)
    return true;  // gzip: only IDX is read compressed
  return head.size() == 4 && head[0] == 0 && head[1] == 0;
}

// Fields on the first line of a CSV (quotes respected), to tell whether it has a label column.
Index csv_column_count(const std::string& path, const CsvOptions& opts) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError("cannot open " + path);
  std::string line;
  std::getline(f, line);
  return static_cast<Index>(csv_row_fields(line, opts.delimiter, path).size());
}

// The CSV options the model was trained with (header, delimiter, label column), when its
// training data was a CSV; otherwise the defaults.
nlohmann::json trained_csv_spec(const LoadedModel& m) {
  const auto& data = m.config.json["data"];
  if (data.contains("train") && data["train"].is_object() && data["train"].contains("path")) {
    nlohmann::json spec = data["train"];
    spec.erase("path");
    return spec;
  }
  return nlohmann::json::object();
}

Dataset load_from_spec(nlohmann::json spec, const std::string& where) {
  const ConfigNode node(spec, "", where);
  return load_dataset(parse_data_spec(node, std::filesystem::current_path().string()));
}

// String labels are numbered by the data's own sorted names: renumber them by the model's.
void map_class_names(Dataset& d, const LoadedModel& m) {
  if (m.meta.class_names.empty())
    throw DataError(d.source + ": labels are names (\"" + d.class_names.front() +
                    "\", ...) but the model was trained on integer labels");
  std::map<std::string, std::int32_t> index;
  for (std::size_t i = 0; i < m.meta.class_names.size(); ++i)
    index[m.meta.class_names[i].get<std::string>()] = static_cast<std::int32_t>(i);
  std::vector<std::int32_t> to_model;
  for (const auto& name : d.class_names) {
    auto it = index.find(name);
    if (it == index.end())
      throw DataError(d.source + ": class \"" + name + "\" is not one of the model's " +
                      std::to_string(index.size()) + " classes " + m.meta.class_names.dump());
    to_model.push_back(it->second);
  }
  for (auto& l : d.labels) l = to_model[static_cast<std::size_t>(l)];
  d.class_names.clear();
  for (const auto& n : m.meta.class_names) d.class_names.push_back(n.get<std::string>());
  d.num_classes = static_cast<int>(d.class_names.size());
}

}  // namespace

EvalResult run_model(LoadedModel& m, const Dataset& d, Matrix& outputs, std::vector<std::int32_t>* predicted) {
  const Preprocess pp = Preprocess::from_json(m.meta.preprocess);
  pp.check_features(d.num_features(), d.source);
  constexpr Index kBatch = 1000;
  return evaluate(m.net, *m.loss, d, pp, kBatch, predicted, &outputs);
}

std::vector<std::string> class_labels(const LoadedModel& m) {
  std::vector<std::string> out;
  for (const auto& n : m.meta.class_names) out.push_back(n.get<std::string>());
  if (out.empty()) {
    const Index k = class_count(m.net.output_shape().size());
    for (Index i = 0; i < k; ++i) out.push_back(std::to_string(i));
  }
  return out;
}

void fit_to_model(Dataset& d, const LoadedModel& m) {
  if (d.has_labels() && d.task == Task::classification && !d.class_names.empty()) map_class_names(d, m);
  // The stored config's "model" node: a loss that cannot take this data is named there.
  const ConfigNode model = m.config.root().child("model");
  check_data_fits(split_facts(d, ""), m.net, *m.loss, model);
}

Dataset load_eval_data(const LoadedModel& m, const DataSource& a) {
  Dataset d;
  if (!a.data.empty()) {
    std::string text = a.data;
    std::string where = "--data";
    if (!text.empty() && text.front() != '{') {
      where = text;
      text = read_file(text);
    }
    nlohmann::json spec = parse_json_text(text, where);
    if (spec.is_object() && !spec.contains("images")) {
      nlohmann::json base = trained_csv_spec(m);
      for (auto& [k, v] : spec.items()) base[k] = v;
      if (spec.contains("path")) spec = base;
    }
    d = load_from_spec(spec, where);
  } else if (!a.images.empty()) {
    if (a.labels.empty()) throw ConfigError("--images needs --labels to evaluate (predict takes images alone)");
    d = load_idx(a.images, a.labels);
  } else if (!a.csv.empty()) {
    nlohmann::json spec = trained_csv_spec(m);
    spec["format"] = "csv";
    spec["path"] = std::filesystem::absolute(a.csv).string();
    d = load_from_spec(spec, "--csv " + a.csv);
  } else {
    const auto& data = m.config.json["data"];
    if (!data.contains("test") || data["test"].is_null())
      throw ConfigError(m.file.path() + ": the model's config has no data.test; give --data, --images/--labels or --csv");
    d = load_from_spec(data["test"], m.file.path() + " (stored config): /data/test");
  }
  if (!d.has_labels() && d.task == Task::classification)
    throw DataError(d.source + ": no labels to evaluate against");
  fit_to_model(d, m);
  return d;
}

Dataset load_predict_data(const LoadedModel& m, const std::string& input) {
  if (looks_like_idx(input)) {
    Dataset d = load_idx(input, "");
    fit_to_model(d, m);
    return d;
  }
  // A CSV with a label column has one column more than the model's input.
  nlohmann::json spec = trained_csv_spec(m);
  spec["format"] = "csv";
  spec["path"] = std::filesystem::absolute(input).string();
  const ConfigNode node(spec, "", input);
  DataSpec ds = parse_data_spec(node, std::filesystem::current_path().string());
  const Index columns = csv_column_count(ds.path, ds.csv);
  if (columns == m.net.input_size()) {
    ds.csv.labeled = false;
  } else if (columns != m.net.input_size() + 1 || ds.csv.task == Task::regression) {
    if (ds.csv.task != Task::regression || columns < m.net.input_size())
      throw DataError(input + ": line 1: expected " + std::to_string(m.net.input_size()) + " feature columns (or " +
                      std::to_string(m.net.input_size() + 1) + " with a label), found " + std::to_string(columns));
  }
  Dataset d = load_dataset(ds);
  fit_to_model(d, m);
  return d;
}

}  // namespace nettrain
