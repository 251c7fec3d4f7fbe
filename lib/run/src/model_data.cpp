#include "nettrain/run/model_data.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

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

// A CSV spec for reading data for the model `m`: the CSV options the model was trained with
// (header, delimiter, task, label column), then `given` (a --data spec or just a path) on top.
// The label column, when not given: the model's own when it was a name; a header column named
// "label"; the model's own when it was an index; the last column. `--label-column` beats all.
DataSpec csv_spec_for_model(const LoadedModel& m, const nlohmann::json& given, const std::string& where,
                            const std::string& label_column_flag) {
  nlohmann::json spec = nlohmann::json::object();
  const auto& data = m.config.json["data"];
  if (data.contains("train") && data["train"].is_object() && data["train"].contains("path")) {
    spec = data["train"];
    spec.erase("path");
  }
  std::optional<ColumnRef> trained_index;
  if (spec.contains("label_column") && spec["label_column"].is_number_integer()) {
    trained_index = ColumnRef{"", spec["label_column"].get<std::int64_t>()};
    spec.erase("label_column");
  }
  for (const auto& [k, v] : given.items()) spec[k] = v;
  spec["format"] = "csv";
  const ConfigNode node(spec, "", where);
  DataSpec ds = parse_data_spec(node, std::filesystem::current_path().string());
  if (!ds.csv.label_column) ds.csv.fallback_label_column = trained_index;
  if (!label_column_flag.empty()) {
    ds.csv.label_column = ColumnRef::parse(label_column_flag);
    ds.csv.target_columns.clear();
  }
  return ds;
}

Dataset load_from_spec(nlohmann::json spec, const std::string& where) {
  const ConfigNode node(spec, "", where);
  return load_dataset(parse_data_spec(node, std::filesystem::current_path().string()));
}

bool is_csv_spec(const nlohmann::json& spec) {
  return spec.is_object() && !spec.contains("images") && (spec.contains("path") || spec.value("format", "") == "csv");
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
      throw DataError(d.source + ": class \"" + name + "\" is not one of the model's " + std::to_string(index.size()) +
                      " classes " + m.meta.class_names.dump());
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
    const nlohmann::json spec = parse_json_text(text, where);
    if (is_csv_spec(spec)) d = load_dataset(csv_spec_for_model(m, spec, where, a.label_column));
    else d = load_from_spec(spec, where);
  } else if (!a.images.empty()) {
    if (a.labels.empty()) throw ConfigError("--images needs --labels to evaluate (predict takes images alone)");
    d = load_idx(a.images, a.labels);
  } else if (!a.csv.empty()) {
    const nlohmann::json given = {{"path", std::filesystem::absolute(a.csv).string()}};
    d = load_dataset(csv_spec_for_model(m, given, "--csv " + a.csv, a.label_column));
  } else {
    const auto& data = m.config.json["data"];
    if (!data.contains("test") || data["test"].is_null())
      throw ConfigError(m.file.path() +
                        ": the model's config has no data.test; give --data, --images/--labels or --csv");
    d = load_from_spec(data["test"], m.file.path() + " (stored config): /data/test");
  }
  if (!d.has_labels() && d.task == Task::classification) throw DataError(d.source + ": no labels to evaluate against");
  fit_to_model(d, m);
  return d;
}

Dataset load_predict_data(const LoadedModel& m, const std::string& input, const std::string& label_column) {
  if (looks_like_idx(input)) {
    if (!label_column.empty()) throw ConfigError("--label-column " + label_column + ": " + input + " is IDX, not CSV");
    Dataset d = load_idx(input, "");
    fit_to_model(d, m);
    return d;
  }
  const nlohmann::json given = {{"path", std::filesystem::absolute(input).string()}};
  DataSpec ds = csv_spec_for_model(m, given, input, label_column);
  // Without --label-column, the column count tells whether the label (or the regression
  // targets) are there: the model's features alone, or those plus the label or targets.
  if (label_column.empty()) {
    const Index features = m.net.input_size();
    const bool regression = ds.csv.task == Task::regression;
    const Index extra = regression ? m.net.output_shape().size() : 1;
    const Index columns = csv_column_count(ds.path, ds.csv);
    if (columns == features) {
      ds.csv.labeled = false;
    } else if (columns != features + extra) {
      throw DataError(input + ": line 1: expected " + std::to_string(features) + " feature columns (or " +
                      std::to_string(features + extra) + " with the " + (regression ? "target columns" : "label") +
                      "), found " + std::to_string(columns));
    }
  }
  Dataset d = load_dataset(ds);
  fit_to_model(d, m);
  return d;
}

}  // namespace nettrain
