// Data specs from the config's "data" section: train/validation/test, the validation split,
// class harmonisation across splits, preprocessing, and the header-only inspection for
// `validate`.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>

#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"

namespace nettrain {
namespace {

const std::vector<std::string> kIdxKeys = {"format", "images", "labels", "num_classes"};
const std::vector<std::string> kCsvKeys = {"format",       "path", "header",         "delimiter",
                                           "label_column", "task", "target_columns", "num_classes"};

std::string resolve(const std::string& base_dir, const std::string& p) {
  std::filesystem::path fp(p);
  if (fp.is_absolute() || base_dir.empty()) return p;
  return (std::filesystem::path(base_dir) / fp).string();
}

ColumnRef column_ref(const ConfigNode& node, const std::string& key, const nlohmann::json& v) {
  if (v.is_string() && !v.get<std::string>().empty()) return ColumnRef{v.get<std::string>(), -1};
  if (v.is_number_integer()) return ColumnRef{"", v.get<std::int64_t>()};
  node.fail(key, "expected a column name or a 0-based column index, got " + describe_json(v));
}

// Makes `other` agree with `train`: same features and task; string classes mapped to train's
// names.
void harmonize(const Dataset& train, Dataset& other, const std::string& split) {
  if (other.num_features() != train.num_features())
    throw DataError(other.source + ": " + split + " data: expected " + std::to_string(train.num_features()) +
                    " features per sample (as in the training data " + train.source + "), found " +
                    std::to_string(other.num_features()));
  other.sample_shape = train.sample_shape;
  if (other.task != train.task)
    throw DataError(other.source + ": " + split + " data: expected task " + to_string(train.task) + ", found " +
                    to_string(other.task));
  if (train.task == Task::regression) {
    if (other.num_targets() != train.num_targets())
      throw DataError(other.source + ": " + split + " data: expected " + std::to_string(train.num_targets()) +
                      " target columns, found " + std::to_string(other.num_targets()));
    return;
  }
  if (train.class_names.empty() != other.class_names.empty())
    throw DataError(other.source + ": " + split + " data: expected " +
                    (train.class_names.empty() ? "integer class labels" : "string class labels") +
                    " like the training data " + train.source + ", found " +
                    (other.class_names.empty() ? "integer labels" : "string labels"));
  if (train.class_names.empty()) return;
  std::map<std::string, std::int32_t> index;
  for (std::size_t k = 0; k < train.class_names.size(); ++k) index[train.class_names[k]] = static_cast<std::int32_t>(k);
  std::vector<std::int32_t> remap(other.class_names.size());
  for (std::size_t k = 0; k < other.class_names.size(); ++k) {
    auto it = index.find(other.class_names[k]);
    if (it == index.end())
      throw DataError(other.source + ": " + split + " data: class \"" + other.class_names[k] +
                      "\" does not occur in the training data " + train.source);
    remap[k] = it->second;
  }
  for (auto& l : other.labels) l = remap[static_cast<std::size_t>(l)];
  other.class_names = train.class_names;
  other.num_classes = train.num_classes;
}

}  // namespace

DataSpec parse_data_spec(const ConfigNode& node, const std::string& base_dir) {
  node.require_object("a data spec object");
  DataSpec s;
  s.where = node.where();
  std::string inferred = node.has("images") ? "idx" : node.has("path") ? "csv" : "";
  s.format = node.get_choice_or("format", {"idx", "csv"}, inferred);
  if (s.format.empty()) node.fail("expected \"images\" and \"labels\" (IDX) or \"path\" (CSV), found neither");
  if (s.format == "idx") {
    node.check_keys(kIdxKeys);
    s.images = resolve(base_dir, node.get_string("images"));
    s.labels = resolve(base_dir, node.get_string("labels"));
    s.csv.num_classes = static_cast<int>(node.get_positive_int_or("num_classes", 0));
    return s;
  }
  node.check_keys(kCsvKeys);
  s.path = resolve(base_dir, node.get_string("path"));
  if (node.has("header")) {
    const auto& h = node.json().at("header");
    if (h.is_boolean()) s.csv.header = h.get<bool>() ? CsvHeader::yes : CsvHeader::no;
    else if (h.is_string() && h.get<std::string>() == "auto") s.csv.header = CsvHeader::autodetect;
    else node.fail("header", "expected true, false or \"auto\", got " + describe_json(h));
  }
  if (node.has("delimiter")) {
    const std::string d = node.get_string("delimiter");
    if (d.size() != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r')
      node.fail("delimiter", "expected one character (not a quote or newline), got \"" + d + "\"");
    s.csv.delimiter = d[0];
  }
  if (node.has("label_column")) s.csv.label_column = column_ref(node, "label_column", node.json().at("label_column"));
  s.csv.task = node.get_choice_or("task", {"classification", "regression"}, "classification") == "regression"
                   ? Task::regression
                   : Task::classification;
  if (node.has("target_columns")) {
    if (s.csv.task != Task::regression) node.fail("target_columns", "is only used with \"task\": \"regression\"");
    const ConfigNode tc = node.child("target_columns");
    if (!tc.is_array() || tc.size() == 0)
      node.fail("target_columns", "expected a non-empty array of column names or indices");
    for (std::size_t i = 0; i < tc.size(); ++i)
      s.csv.target_columns.push_back(column_ref(tc, std::to_string(i), tc.json().at(i)));
  }
  s.csv.num_classes = static_cast<int>(node.get_positive_int_or("num_classes", 0));
  return s;
}

Dataset load_dataset(const DataSpec& spec) {
  if (spec.format == "idx") {
    Dataset d = load_idx(spec.images, spec.labels);
    if (spec.csv.num_classes > 0) {
      d.check_labels(spec.csv.num_classes);
      d.num_classes = spec.csv.num_classes;
    }
    return d;
  }
  return read_csv_cached(spec.path, spec.csv);
}

std::pair<Dataset, Dataset> split_validation(const Dataset& all, double fraction, std::uint64_t seed) {
  if (!(fraction > 0.0 && fraction < 1.0))
    throw DataError(all.source + ": validation split: expected a fraction in (0, 1), found " +
                    std::to_string(fraction));
  Rng rng = Rng(seed).split(0x5A11D5EEull);
  auto shuffle = [&rng](std::vector<Index>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<std::size_t>(rng.below(i))]);
  };
  std::vector<std::vector<Index>> groups;
  if (all.task == Task::classification && all.has_labels()) {
    groups.resize(static_cast<std::size_t>(std::max(all.num_classes, 1)));
    for (Index i = 0; i < all.num_samples; ++i)
      groups[static_cast<std::size_t>(all.labels[static_cast<std::size_t>(i)])].push_back(i);
  } else {
    groups.emplace_back(static_cast<std::size_t>(all.num_samples));
    std::iota(groups[0].begin(), groups[0].end(), Index{0});
  }
  std::vector<Index> tr, va;
  for (auto& g : groups) {
    shuffle(g);
    const auto nv = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(g.size())));
    va.insert(va.end(), g.begin(), g.begin() + static_cast<std::ptrdiff_t>(nv));
    tr.insert(tr.end(), g.begin() + static_cast<std::ptrdiff_t>(nv), g.end());
  }
  if (va.empty() || tr.empty())
    throw DataError(all.source + ": validation split " + std::to_string(fraction) + " of " +
                    std::to_string(all.num_samples) + " samples: expected samples on both sides, found " +
                    std::to_string(tr.size()) + " train and " + std::to_string(va.size()) + " validation");
  std::sort(tr.begin(), tr.end());
  std::sort(va.begin(), va.end());
  Dataset a = all.subset(tr), b = all.subset(va);
  b.source = all.source + " (validation split)";
  return {std::move(a), std::move(b)};
}

namespace {

Preprocess parse_preprocess(const ConfigNode& data) {
  Preprocess pp;
  if (!data.has("preprocess")) return pp;
  const ConfigNode n = data.child("preprocess");
  n.check_keys({"scale", "standardize"});
  pp.scale = n.get_number_or("scale", 1.0);
  n.check_min_exclusive("scale", pp.scale, 0.0);
  pp.standardize = n.get_bool_or("standardize", false);
  return pp;
}

double parse_split(const ConfigNode& v) {
  v.check_keys({"split"});
  const double f = v.get_number("split");
  if (!(f > 0.0 && f < 1.0))
    v.fail("split", "expected a fraction between 0 and 1 (exclusive), got " + describe_json(v.json().at("split")));
  return f;
}

}  // namespace

namespace {

// "class_names": names for integer labels 0..K-1 (Fashion-MNIST's IDX labels are integers).
void apply_class_names(const ConfigNode& data_node, DataBundle& b) {
  const std::vector<std::string> names = data_node.get_string_array("class_names");
  if (b.train.task != Task::classification) data_node.fail("class_names", "is only used for classification data");
  if (!b.train.class_names.empty())
    data_node.fail("class_names", "the training labels are names already (" + b.train.source + ")");
  if (static_cast<int>(names.size()) < b.train.num_classes)
    data_node.fail("class_names", "expected at least " + std::to_string(b.train.num_classes) +
                                      " names (labels go up to " + std::to_string(b.train.num_classes - 1) + "), got " +
                                      std::to_string(names.size()));
  const int k = static_cast<int>(names.size());
  for (Dataset* d : {&b.train, b.validation ? &*b.validation : nullptr, b.test ? &*b.test : nullptr}) {
    if (d == nullptr) continue;
    d->check_labels(k);
    d->class_names = names;
    d->num_classes = k;
  }
}

}  // namespace

DataBundle load_data(const ConfigNode& data_node, const std::string& base_dir, std::uint64_t seed) {
  data_node.check_keys({"train", "validation", "test", "preprocess", "class_names", "augment"});
  DataBundle b;
  b.preprocess = parse_preprocess(data_node);
  b.train = load_dataset(parse_data_spec(data_node.child("train"), base_dir));
  if (b.train.num_samples == 0) throw DataError(b.train.source + ": training data: expected samples, found none");
  if (b.train.task == Task::classification && !b.train.has_labels())
    throw DataError(b.train.source + ": training data: expected class labels, found none");
  if (data_node.has("validation")) {
    const ConfigNode v = data_node.child("validation");
    v.require_object();
    if (v.has("split")) {
      auto [tr, va] = split_validation(b.train, parse_split(v), seed);
      b.train = std::move(tr);
      b.validation = std::move(va);
    } else {
      b.validation = load_dataset(parse_data_spec(v, base_dir));
    }
  }
  if (data_node.has("test")) b.test = load_dataset(parse_data_spec(data_node.child("test"), base_dir));
  int k = b.train.num_classes;
  for (auto* o : {&b.validation, &b.test}) {
    if (!*o) continue;
    harmonize(b.train, **o, o == &b.test ? "test" : "validation");
    k = std::max(k, (*o)->num_classes);
  }
  // Integer classes: K is the largest of the splits' (a class may be missing from one of them).
  if (b.train.class_names.empty()) {
    b.train.num_classes = k;
    if (b.validation) b.validation->num_classes = k;
    if (b.test) b.test->num_classes = k;
  }
  if (data_node.has("class_names")) apply_class_names(data_node, b);
  b.preprocess.fit(b.train);
  return b;
}

DataSummary inspect_data(const ConfigNode& data_node, const std::string& base_dir) {
  data_node.check_keys({"train", "validation", "test", "preprocess", "class_names", "augment"});
  DataSummary s;
  s.preprocess = parse_preprocess(data_node);
  std::vector<std::int32_t> train_labels;
  auto summarize = [&](const ConfigNode& n, const std::string& name, std::vector<std::int32_t>* keep) {
    const DataSpec spec = parse_data_spec(n, base_dir);
    SplitSummary out;
    out.name = name;
    out.format = spec.format;
    if (spec.format == "idx") {
      // Images header-only; labels are small and give the class count.
      const IdxHeader h = read_idx_header(spec.images);
      out.source = spec.images;
      out.num_samples = static_cast<Index>(h.dims[0]);
      std::vector<Index> shape;
      for (std::size_t i = 1; i < h.dims.size(); ++i) shape.push_back(static_cast<Index>(h.dims[i]));
      if (shape.empty()) shape.push_back(1);
      out.sample_shape = Shape(std::move(shape));
      // load_idx of a 1-sample-wide view would read the images; check the labels alone here.
      const std::vector<std::int32_t> labels = idx_labels(read_idx(spec.labels), spec.labels, h.dims[0], spec.images);
      std::int32_t mx = -1;
      for (const std::int32_t v : labels) mx = std::max(mx, v);
      if (keep) *keep = labels;
      out.num_classes = spec.csv.num_classes > 0 ? spec.csv.num_classes : mx + 1;
    } else {
      const Dataset d = read_csv_cached(spec.path, spec.csv);
      out.source = d.source;
      out.num_samples = d.num_samples;
      out.sample_shape = d.sample_shape;
      out.task = d.task;
      out.num_classes = d.num_classes;
      out.num_targets = d.num_targets();
      if (keep) *keep = d.labels;
    }
    return out;
  };
  s.splits.push_back(summarize(data_node.child("train"), "train", &train_labels));
  if (data_node.has("validation")) {
    const ConfigNode v = data_node.child("validation");
    v.require_object();
    if (v.has("split")) {
      const double f = parse_split(v);
      SplitSummary val = s.splits[0];
      val.name = "validation";
      val.source += " (validation split)";
      // The same per-class rounding as split_validation.
      Index nv = 0;
      if (!train_labels.empty() && val.task == Task::classification) {
        std::map<std::int32_t, Index> counts;
        for (auto l : train_labels) ++counts[l];
        for (auto [l, c] : counts) nv += static_cast<Index>(std::llround(f * static_cast<double>(c)));
      } else {
        nv = static_cast<Index>(std::llround(f * static_cast<double>(val.num_samples)));
      }
      val.num_samples = nv;
      s.splits[0].num_samples -= nv;
      s.splits.push_back(val);
    } else {
      s.splits.push_back(summarize(v, "validation", nullptr));
    }
  }
  if (data_node.has("test")) s.splits.push_back(summarize(data_node.child("test"), "test", nullptr));
  return s;
}

}  // namespace nettrain
