// Data layer above the readers: convert round trip, data specs from config, validation split,
// standardize, class harmonisation, batches and the epoch sampler.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "data_fixtures.h"
#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"

using namespace nettrain;
using namespace test_data;

TEST_CASE("convert: IDX -> CSV -> IDX gives identical bytes") {
  TempDir t;
  IdxArray img;
  img.type = IdxType::u8;
  img.dims = {5, 2, 3};
  for (int i = 0; i < 30; ++i) img.data.push_back(static_cast<std::uint8_t>((i * 53) % 256));
  IdxArray lab;
  lab.type = IdxType::u8;
  lab.dims = {5};
  lab.data = {3, 0, 1, 3, 2};
  write_idx(t.file("img.idx"), img);
  write_idx(t.file("lab.idx"), lab);
  convert_idx_to_csv(t.file("img.idx"), t.file("lab.idx"), t.file("out.csv"));
  const std::string text = read_bytes(t.file("out.csv"));
  CHECK(text.rfind("label,x0,x1,x2,x3,x4,x5\n3,0,53,106,159,212,9\n", 0) == 0);
  CsvOptions o;
  o.label_column = ColumnRef{"label", -1};
  const auto r = convert_csv_to_idx(t.file("out.csv"), o, Shape{2, 3}, t.file("back"));
  CHECK(r.u8);
  CHECK(r.num_samples == 5);
  CHECK(read_bytes(r.images_path) == read_bytes(t.file("img.idx")));
  CHECK(read_bytes(r.labels_path) == read_bytes(t.file("lab.idx")));
  // Without labels: no label column, no labels file.
  convert_idx_to_csv(t.file("img.idx"), "", t.file("nolab.csv"));
  CHECK(read_bytes(t.file("nolab.csv")).rfind("x0,x1,x2,x3,x4,x5\n0,53,", 0) == 0);
  CHECK(std::filesystem::directory_iterator(t.path) != std::filesystem::directory_iterator());
  for (const auto& e : std::filesystem::directory_iterator(t.path))
    CHECK(!contains(e.path().filename().string(), ".tmp"));  // no temporary left behind
}

TEST_CASE("convert: CSV -> IDX writes f32 when a value is not an integer 0..255; shape is checked") {
  TempDir t;
  write(t.file("f.csv"), "a,b,label\n0.5,1,cat\n300,2,dog\n");
  const auto r = convert_csv_to_idx(t.file("f.csv"), {}, std::nullopt, t.file("f"));
  CHECK(!r.u8);
  CHECK(r.class_names == std::vector<std::string>{"cat", "dog"});
  const IdxArray a = read_idx(r.images_path);
  CHECK(a.type == IdxType::f32);
  CHECK(a.dims == std::vector<std::uint64_t>{2, 2});
  CHECK(a.at(0) == 0.5);
  CHECK(a.at(2) == 300.0);
  CHECK(read_idx(r.labels_path).data == std::vector<std::uint8_t>{0, 1});
  CHECK(contains(error_of<ConfigError>([&] { convert_csv_to_idx(t.file("f.csv"), {}, Shape{3}, t.file("g")); }),
                 "holds 3 values per sample"));
}

namespace {

// A config file's "data" section, parsed and kept alive with its node.
struct Cfg {
  nlohmann::json j;
  ConfigNode node() const { return ConfigNode(j.at("data"), "/data", "cfg.json"); }
};

// n samples, feature 0 = the sample's index (to trace splits), feature 1 = label * 10.
std::string class_csv(const std::vector<int>& counts) {
  std::string s = "id,v,label\n";
  int id = 0;
  for (std::size_t k = 0; k < counts.size(); ++k)
    for (int i = 0; i < counts[k]; ++i)
      s += std::to_string(id++) + "," + std::to_string(k * 10) + "," + std::to_string(k) + "\n";
  return s;
}

}  // namespace

TEST_CASE("split: stratified validation keeps class proportions, disjoint and complete, seeded") {
  TempDir t;
  write(t.file("train.csv"), class_csv({50, 30, 17}));
  Cfg c{nlohmann::json::parse(R"({"data": {"train": {"path": "train.csv", "label_column": "label"},
                                           "validation": {"split": 0.2}}})")};
  const DataBundle b = load_data(c.node(), t.path.string(), 7);
  REQUIRE(b.validation);
  std::map<int, int> val_counts;
  for (auto l : b.validation->labels) ++val_counts[l];
  CHECK(std::abs(val_counts[0] - 10) <= 1);
  CHECK(std::abs(val_counts[1] - 6) <= 1);
  CHECK(std::abs(val_counts[2] - 3) <= 1);
  std::set<int> ids;
  for (Index i = 0; i < b.train.num_samples; ++i) ids.insert(static_cast<int>(b.train.feature(i, 0)));
  for (Index i = 0; i < b.validation->num_samples; ++i) ids.insert(static_cast<int>(b.validation->feature(i, 0)));
  CHECK(ids.size() == 97);
  CHECK(b.train.num_samples + b.validation->num_samples == 97);
  // Labels follow their samples.
  for (Index i = 0; i < b.validation->num_samples; ++i)
    CHECK(b.validation->feature(i, 1) == 10.0f * static_cast<float>(b.validation->labels[static_cast<std::size_t>(i)]));
  // Same seed, same split; another seed, another split.
  // (The second load maps the data cache the first one wrote: compare values, not storage.)
  const auto values = [](const Dataset& d) {
    std::vector<float> v;
    for (Index i = 0; i < d.num_samples; ++i)
      for (Index j = 0; j < d.num_features(); ++j) v.push_back(d.feature(i, j));
    return v;
  };
  const DataBundle same = load_data(c.node(), t.path.string(), 7), other = load_data(c.node(), t.path.string(), 8);
  CHECK(same.validation->mapped_file() != nullptr);
  CHECK(values(*same.validation) == values(*b.validation));
  CHECK(values(*other.validation) != values(*b.validation));
  // inspect_data predicts the same counts without the split.
  const DataSummary s = inspect_data(c.node(), t.path.string());
  REQUIRE(s.splits.size() == 2);
  CHECK(s.splits[0].num_samples == b.train.num_samples);
  CHECK(s.splits[1].num_samples == b.validation->num_samples);
  CHECK(s.splits[0].num_classes == 3);
}

TEST_CASE("preprocess: standardize is fitted on train only and applied to test with train's stats") {
  TempDir t;
  // Feature 0: train 2, 4, 6 -> scaled by 0.5: 1, 2, 3: mean 2, std sqrt(2/3). Feature 1 constant 5.
  write(t.file("train.csv"), "a,b,label\n2,5,0\n4,5,1\n6,5,0\n");
  write(t.file("test.csv"), "a,b,label\n100,7,1\n");
  Cfg c{nlohmann::json::parse(R"({"data": {"train": {"format": "csv", "path": "train.csv"},
                                           "test": {"path": "test.csv", "header": true},
                                           "preprocess": {"scale": 0.5, "standardize": true}}})")};
  const DataBundle b = load_data(c.node(), t.path.string(), 1);
  REQUIRE(b.preprocess.fitted());
  const float sd = std::sqrt(2.0f / 3.0f);
  CHECK(b.preprocess.mean()[0] == doctest::Approx(2.0));
  CHECK(b.preprocess.stddev()[0] == doctest::Approx(sd));
  CHECK(b.preprocess.mean()[1] == doctest::Approx(2.5));
  CHECK(b.preprocess.stddev()[1] == 1.0f);  // constant feature: centred only
  Batch batch;
  const std::vector<Index> idx{0};
  b.test->fill_batch(idx, b.preprocess, batch);
  CHECK(batch.x(0, 0) == doctest::Approx((50.0 - 2.0) / sd));
  CHECK(batch.x(0, 1) == doctest::Approx(3.5 - 2.5));
  CHECK(batch.labels == std::vector<std::int32_t>{1});
  // The stats survive a JSON round trip (the model file carries them).
  const Preprocess p = Preprocess::from_json(nlohmann::json::parse(b.preprocess.to_json().dump()));
  CHECK(p.scale == 0.5);
  CHECK(p.mean() == b.preprocess.mean());
  CHECK(p.stddev() == b.preprocess.stddev());
  CHECK_THROWS_AS(Preprocess::from_json(nlohmann::json{{"scale", 1}, {"mean", {1}}}), ModelFileError);
  // Without standardize: scale only.
  Preprocess s;
  s.scale = 0.5;
  b.train.fill_batch(std::vector<Index>{2, 0}, s, batch);
  CHECK(batch.x(0, 0) == 3.0f);
  CHECK(batch.x(1, 0) == 1.0f);
}

TEST_CASE("batch: fill_batch reuses its buffers when the batch size is unchanged") {
  const Dataset d = parse_csv("1,2,0\n3,4,1\n5,6,0\n7,8,1\n", "t.csv", {});
  Batch b;
  Preprocess p;
  d.fill_batch(std::vector<Index>{0, 1}, p, b);
  const float* x0 = b.x.data();
  const std::int32_t* l0 = b.labels.data();
  d.fill_batch(std::vector<Index>{3, 2}, p, b);
  CHECK(b.x.data() == x0);
  CHECK(b.labels.data() == l0);
  CHECK(b.x(0, 1) == 8.0f);
  CHECK(b.labels == std::vector<std::int32_t>{1, 0});
  CHECK(b.targets(Task::classification).labels.size() == 2);
}

TEST_CASE("data spec: config errors name the file and JSON pointer, with did-you-mean") {
  TempDir t;
  write(t.file("a.csv"), "x,label\n1,0\n");
  auto err = [&](const char* text) {
    Cfg c{nlohmann::json::parse(text)};
    return error_of<ConfigError>([&] { load_data(c.node(), t.path.string(), 1); });
  };
  CHECK(contains(err(R"({"data": {"train": {"path": "a.csv"}, "tset": {}}})"),
                 "cfg.json: /data/tset: unknown key \"tset\" (did you mean \"test\"?)"));
  CHECK(contains(err(R"({"data": {"train": {"path": "a.csv", "lable_column": "label"}}})"),
                 "cfg.json: /data/train/lable_column: unknown key \"lable_column\" (did you mean \"label_column\"?)"));
  CHECK(contains(err(R"({"data": {"train": {"path": "a.csv"}, "validation": {"split": 1.5}}})"),
                 "cfg.json: /data/validation/split: expected a fraction between 0 and 1 (exclusive), got 1.5"));
  CHECK(contains(err(R"({"data": {"train": {"path": "a.csv", "header": "yes"}}})"),
                 "/data/train/header: expected true, false or \"auto\""));
  CHECK(contains(err(R"({"data": {"train": {"path": "a.csv", "delimiter": ";;"}}})"),
                 "/data/train/delimiter: expected one character"));
  CHECK(contains(err(R"({"data": {"train": {"label_column": 0}}})"), "/data/train: expected \"images\""));
  CHECK(contains(err(R"({"data": {"train": {"images": "i", "labels": "l", "path": "p"}}})"),
                 "/data/train/path: unknown key"));
  CHECK(contains(err(R"({"data": {"train": {"path": "a.csv", "target_columns": ["x"]}}})"),
                 "only used with \"task\": \"regression\""));
  CHECK(
      contains(err(R"({"data": {"train": {"path": "a.csv"}, "preprocess": {"scale": 0}}})"), "/data/preprocess/scale"));
  CHECK(contains(err(R"({"data": {"train": {"path": "a.csv"}, "preprocess": {"standardise": true}}})"),
                 "did you mean \"standardize\""));
  // A data problem stays a DataError naming the data file.
  Cfg c{nlohmann::json::parse(R"({"data": {"train": {"path": "a.csv", "label_column": "lbl"}}})")};
  CHECK(contains(error_of<DataError>([&] { load_data(c.node(), t.path.string(), 1); }),
                 t.file("a.csv") + ":1:1: label column \"lbl\""));
}

TEST_CASE("data spec: IDX train with CSV test; string classes map by name to train's") {
  TempDir t;
  IdxArray img{IdxType::u8, {4, 2}, {0, 1, 2, 3, 4, 5, 6, 7}};
  IdxArray lab{IdxType::u8, {4}, {0, 1, 2, 1}};
  write_idx(t.file("img.gz"), img, true);
  write_idx(t.file("lab.gz"), lab, true);
  write(t.file("test.csv"), "label,x0,x1\n2,9,9\n");
  Cfg c{nlohmann::json::parse(R"({"data": {"train": {"images": "img.gz", "labels": "lab.gz"},
                                           "test": {"path": "test.csv", "label_column": 0}}})")};
  const DataBundle b = load_data(c.node(), t.path.string(), 1);
  CHECK(b.train.num_classes == 3);
  CHECK(b.test->labels == std::vector<std::int32_t>{2});
  const DataSummary s = inspect_data(c.node(), t.path.string());
  CHECK(s.splits[0].format == "idx");
  CHECK(s.splits[0].num_samples == 4);
  CHECK(s.splits[0].sample_shape == Shape{2});
  CHECK(s.splits[1].num_samples == 1);

  write(t.file("s_train.csv"), "x,y\n1,red\n2,green\n3,blue\n");
  write(t.file("s_test.csv"), "x,y\n1,red\n2,red\n");
  write(t.file("s_bad.csv"), "x,y\n1,purple\n");
  Cfg s2{nlohmann::json::parse(R"({"data": {"train": {"path": "s_train.csv"}, "test": {"path": "s_test.csv"}}})")};
  const DataBundle sb = load_data(s2.node(), t.path.string(), 1);
  CHECK(sb.test->class_names == std::vector<std::string>{"blue", "green", "red"});
  CHECK(sb.test->labels == std::vector<std::int32_t>{2, 2});
  CHECK(sb.test->num_classes == 3);
  Cfg s3{nlohmann::json::parse(R"({"data": {"train": {"path": "s_train.csv"}, "validation": {"path": "s_bad.csv"}}})")};
  CHECK(contains(error_of<DataError>([&] { load_data(s3.node(), t.path.string(), 1); }),
                 "class \"purple\" does not occur"));
  write(t.file("wide.csv"), "a,b,c,y\n1,2,3,red\n");
  Cfg s4{nlohmann::json::parse(R"({"data": {"train": {"path": "s_train.csv"}, "test": {"path": "wide.csv"}}})")};
  CHECK(contains(error_of<DataError>([&] { load_data(s4.node(), t.path.string(), 1); }),
                 "expected 1 features per sample"));
}

TEST_CASE("data spec: regression CSV with two target columns") {
  TempDir t;
  write(t.file("r.csv"), "x,y1,y2\n1,2,3\n4,5,6\n7,8,9\n");
  Cfg c{
      nlohmann::json::parse(R"({"data": {"train": {"path": "r.csv", "task": "regression", "target_columns": ["y1", 2]},
                                           "validation": {"split": 0.34}}})")};
  const DataBundle b = load_data(c.node(), t.path.string(), 3);
  CHECK(b.train.task == Task::regression);
  CHECK(b.train.num_targets() == 2);
  CHECK(b.validation->num_samples == 1);
  Batch batch;
  b.validation->fill_batch(std::vector<Index>{0}, b.preprocess, batch);
  CHECK(batch.values(0, 1) == batch.values(0, 0) + 1.0f);
  CHECK(batch.x(0, 0) == batch.values(0, 0) - 1.0f);
}

TEST_CASE("sampler: seeded permutations, every index once, partial last batch, exact resume") {
  auto epoch_order = [](BatchSampler& s, std::vector<Index>* sizes = nullptr) {
    std::vector<Index> all, idx;
    while (s.next(idx)) {
      all.insert(all.end(), idx.begin(), idx.end());
      if (sizes) sizes->push_back(static_cast<Index>(idx.size()));
    }
    return all;
  };
  BatchSampler a(10, 4, true, 42), b(10, 4, true, 42), c(10, 4, true, 43);
  std::vector<Index> sizes;
  const auto e0 = epoch_order(a, &sizes);
  CHECK(sizes == std::vector<Index>{4, 4, 2});
  CHECK(a.batches_per_epoch() == 3);
  CHECK(e0 == epoch_order(b));
  CHECK(e0 != epoch_order(c));
  std::vector<Index> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  for (Index i = 0; i < 10; ++i) CHECK(sorted[static_cast<std::size_t>(i)] == i);
  const auto e1 = epoch_order(a);
  CHECK(e1 != e0);  // a new permutation each epoch
  CHECK(a.epoch() == 2);

  // Restore mid-epoch, through JSON, continues identically.
  BatchSampler x(1000, 32, true, 5);
  std::vector<Index> idx;
  epoch_order(x);
  for (int i = 0; i < 7; ++i) x.next(idx);
  const SamplerState st = SamplerState::from_json(nlohmann::json::parse(x.state().to_json().dump()));
  std::vector<Index> rest_a;
  for (int i = 0; i < 60; ++i) {
    if (!x.next(idx)) idx = {-1};
    rest_a.insert(rest_a.end(), idx.begin(), idx.end());
  }
  BatchSampler y(1000, 32, true, 999);  // a different seed: the state decides
  y.restore(st);
  CHECK(y.epoch() == 1);
  CHECK(y.position() == 7 * 32);
  std::vector<Index> rest_b;
  for (int i = 0; i < 60; ++i) {
    if (!y.next(idx)) idx = {-1};
    rest_b.insert(rest_b.end(), idx.begin(), idx.end());
  }
  CHECK(rest_a == rest_b);

  BatchSampler off(5, 2, false, 1);
  CHECK(epoch_order(off) == std::vector<Index>{0, 1, 2, 3, 4});
  SamplerState bad = off.state();
  bad.position = 6;
  CHECK_THROWS_AS(off.restore(bad), DataError);
  CHECK_THROWS_AS(SamplerState::from_json(nlohmann::json{{"epoch", 1}}), ModelFileError);
}

TEST_CASE("shipped data: the CSVs in data/ load with the documented columns") {
  // tests/data -> the project's data/ (lexically: tests/data need not exist).
  const std::string dir =
      (std::filesystem::path(NETTRAIN_TEST_DATA).parent_path().parent_path() / "data").string() + "/";
  const Dataset spirals = read_csv(dir + "spirals.csv", {});
  CHECK(spirals.num_samples == 1000);
  CHECK(spirals.num_classes == 2);
  CsvOptions color;
  color.label_column = ColumnRef{"color", -1};
  const Dataset blobs = read_csv(dir + "blobs.csv", color);
  CHECK(blobs.class_names == std::vector<std::string>{"blue", "green", "red"});
  CHECK(read_csv(dir + "xor.csv", {}).num_classes == 2);
  CsvOptions reg;
  reg.task = Task::regression;
  reg.target_columns = {ColumnRef{"sin", -1}, ColumnRef{"cos", -1}};
  const Dataset sine = read_csv(dir + "sine.csv", reg);
  CHECK(sine.num_targets() == 2);
  CHECK(sine.num_features() == 1);
}
