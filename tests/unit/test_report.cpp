// The report module: which config keys differ between runs (flattening, missing keys, arrays),
// the legend's short names, the comparison table's sort order and columns, base64 and PNG
// thumbnails, and SVG made fit for a page that refers to no URL.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nettrain/core/errors.h"
#include "nettrain/report/compare.h"
#include "nettrain/report/gallery.h"
#include "nettrain/report/html.h"

using namespace nettrain;
using namespace nettrain::report;
using nlohmann::json;

namespace {

json sweep_config(double lr, int units) {
  return {
      {"name", "spirals"},
      {"seed", 42},
      {"model",
       {{"input_shape", {2}}, {"layers", json::array({{{"type", "affine"}, {"units", units}}, {{"type", "relu"}}})}}},
      {"training", {{"epochs", 3}, {"optimizer", {{"type", "sgd"}, {"lr", lr}}}}}};
}

// A run as compare sees it: two epochs of metrics with the given validation losses.
RunData fake_run(const std::string& dir, double lr, double val1, double val2, double test_accuracy) {
  RunData r;
  r.dir = dir;
  r.name = "spirals";
  r.config = sweep_config(lr, 8);
  r.metrics.columns = {"epoch",        "train_loss", "train_accuracy", "val_loss",
                       "val_accuracy", "lr",         "seconds",        "samples_per_second"};
  r.metrics.rows = {{1, 0.9, 0.5, val1, 0.5, lr, 0.5, 100}, {2, 0.7, 0.6, val2, 0.6, lr, 0.5, 100}};
  if (!std::isnan(test_accuracy)) {
    r.summary = {{"test", {{"accuracy", test_accuracy}, {"loss", 0.5}}}, {"train_seconds", 1.0}};
    r.status = RunStatus::finished;
  }
  r.parameters = 42;
  return r;
}

std::size_t column_index(const CompareTable& t, const std::string& name) {
  for (std::size_t i = 0; i < t.columns.size(); ++i)
    if (t.columns[i] == name) return i;
  FAIL("no column " << name);
  return 0;
}

}  // namespace

TEST_CASE("report: flatten_config gives dotted paths with array indices") {
  const auto flat = flatten_config(sweep_config(0.01, 64));
  CHECK(flat.at("training.optimizer.lr") == 0.01);
  CHECK(flat.at("model.layers.0.units") == 64);
  CHECK(flat.at("model.layers.1.type") == "relu");
  CHECK(flat.at("model.input_shape.0") == 2);
  CHECK(flat.count("model.layers") == 0);
  const auto empty = flatten_config(json{{"a", json::object()}, {"b", json::array()}});
  CHECK(empty.at("a") == json::object());
  CHECK(empty.at("b") == json::array());
}

TEST_CASE("report: differing_keys lists only what changed between the runs") {
  CHECK(differing_keys({sweep_config(0.001, 8), sweep_config(0.003, 8), sweep_config(0.01, 8)}) ==
        std::vector<std::string>{"training.optimizer.lr"});
  CHECK(differing_keys({sweep_config(0.01, 8), sweep_config(0.01, 16)}) ==
        std::vector<std::string>{"model.layers.0.units"});
  CHECK(differing_keys({sweep_config(0.01, 8), sweep_config(0.01, 8)}).empty());
  CHECK(differing_keys({sweep_config(0.01, 8)}).empty());
  // A key one run lacks differs; so do the keys of an extra layer.
  json with_decay = sweep_config(0.01, 8);
  with_decay["training"]["optimizer"]["weight_decay"] = 0.0;
  json deeper = sweep_config(0.01, 8);
  deeper["model"]["layers"].push_back({{"type", "affine"}, {"units", 2}});
  CHECK(differing_keys({sweep_config(0.01, 8), with_decay, deeper}) ==
        std::vector<std::string>{"model.layers.2.type", "model.layers.2.units", "training.optimizer.weight_decay"});
  // 1 and 1.0 are the same number; "1" is not.
  json a = sweep_config(1, 8), b = sweep_config(1.0, 8), c = sweep_config(1, 8);
  c["training"]["optimizer"]["lr"] = "1";
  CHECK(differing_keys({a, b}).empty());
  CHECK(differing_keys({a, c}) == std::vector<std::string>{"training.optimizer.lr"});
}

TEST_CASE("report: short key names for the legend") {
  CHECK(short_key_names({"training.optimizer.lr", "model.layers.0.units"}) == std::vector<std::string>{"lr", "units"});
  CHECK(short_key_names({"model.input_shape.0"}) == std::vector<std::string>{"input_shape"});
  CHECK(short_key_names({"model.layers.0.units", "model.layers.2.units", "seed"}) ==
        std::vector<std::string>{"model.layers.0.units", "model.layers.2.units", "seed"});
  CHECK(value_text(sweep_config(0.5, 8), "model.layers.1.type") == "relu");
  CHECK(value_text(sweep_config(0.5, 8), "training.optimizer.lr") == "0.5");
  CHECK(value_text(sweep_config(0.5, 8), "training.nothing") == "");
}

TEST_CASE("report: compare table columns, legend and sort order") {
  const std::vector<RunData> runs = {fake_run("runs/lr-0.1", 0.1, 0.8, 0.6, 0.70),
                                     fake_run("runs/lr-0.01", 0.01, 0.5, 0.4, 0.80),
                                     fake_run("runs/lr-0.001", 0.001, 0.9, 0.95, std::nan(""))};
  const CompareTable t = compare_runs(runs, "");
  CHECK(t.monitor == "val_loss");
  CHECK(t.keys == std::vector<std::string>{"training.optimizer.lr"});
  CHECK(t.columns.front() == "run");
  CHECK(t.columns[1] == "training.optimizer.lr");
  // Default: best val_loss, lowest first; the unfinished run's best is epoch 1 (0.9).
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0][0].text == "runs/lr-0.01");
  CHECK(t.rows[1][0].text == "runs/lr-0.1");
  CHECK(t.rows[2][0].text == "runs/lr-0.001");
  CHECK(t.legend[0] == "lr=0.01");
  CHECK(t.rows[2][column_index(t, "status")].text == "unfinished");
  CHECK(t.rows[2][column_index(t, "best_epoch")].value == 1);
  CHECK(t.rows[0][column_index(t, "best_val_loss")].value == doctest::Approx(0.4));
  // Accuracy sorts best first, and a run without the value goes last.
  const CompareTable by_acc = compare_runs(runs, "test_accuracy");
  CHECK(by_acc.rows[0][0].text == "runs/lr-0.01");
  CHECK(by_acc.rows[1][0].text == "runs/lr-0.1");
  CHECK(by_acc.rows[2][column_index(by_acc, "test_accuracy")].value.is_null());
  const CompareTable by_lr = compare_runs(runs, "training.optimizer.lr");
  CHECK(by_lr.rows[0][0].text == "runs/lr-0.001");
  CHECK_THROWS_AS(compare_runs(runs, "nope"), ConfigError);
  // JSON and CSV carry the same rows.
  const json j = t.to_json();
  CHECK(j["changed_keys"] == json::array({"training.optimizer.lr"}));
  CHECK(j["runs"][0]["training.optimizer.lr"] == 0.01);
  const std::string csv = t.to_csv();
  CHECK(csv.substr(0, csv.find('\n')).find("run,training.optimizer.lr,status,") == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);
}

TEST_CASE("report: base64 data URIs and PNG thumbnails") {
  CHECK(png_data_uri("Man") == "data:image/png;base64,TWFu");
  CHECK(png_data_uri("Ma") == "data:image/png;base64,TWE=");
  CHECK(png_data_uri("M") == "data:image/png;base64,TQ==");
  Dataset d;
  d.num_samples = 2;
  d.sample_shape = Shape{3, 5};
  d.x_u8.resize(30);
  for (std::size_t i = 0; i < d.x_u8.size(); ++i) d.x_u8[i] = static_cast<std::uint8_t>(i * 8);
  const std::string png = sample_png(d, 1, {1, 3, 5});
  REQUIRE(png.size() > 33);
  CHECK(png.substr(1, 3) == "PNG");
  const auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned char>(png[at]) << 24) | (static_cast<unsigned char>(png[at + 1]) << 16) |
           (static_cast<unsigned char>(png[at + 2]) << 8) | static_cast<unsigned char>(png[at + 3]);
  };
  CHECK(be32(16) == 5);  // IHDR width
  CHECK(be32(20) == 3);  // IHDR height
}

TEST_CASE("report: inline SVG refers to no URL") {
  const std::string svg = inline_svg(render_svg("t", {Panel{"p", "x", "y", {Series{"s", {0, 1}, {0, 1}}}}}));
  CHECK(svg.find("http") == std::string::npos);
  CHECK(svg.find("<?xml") == std::string::npos);
  CHECK(svg.rfind("<svg class=\"figure\"", 0) == 0);
  CHECK(escape_html("<a & \"b\">") == "&lt;a &amp; &quot;b&quot;&gt;");
}
