// Config files: syntax errors with line:column, --set overrides, defaults, schema errors.
#include <doctest/doctest.h>

#include "nettrain/run/config.h"
#include "nettrain/core/errors.h"

using namespace nettrain;
using json = nlohmann::json;

namespace {

std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

json minimal() {
  return json::parse(R"({"data": {"train": {"path": "x.csv"}},
                         "model": {"input_shape": [2], "layers": [{"type": "affine", "units": 2}]}})");
}

}  // namespace

TEST_CASE("config: a syntax error gives file:line:column") {
  const std::string text = "{\n  \"model\": {\n    \"layers\": [,]\n  }\n}\n";
  const std::string msg = config_error([&] { parse_json_text(text, "c.json"); });
  CHECK(msg.rfind("c.json:3:16: ", 0) == 0);
  CHECK(config_error([&] { parse_json_text("", "empty.json"); }).rfind("empty.json:1:1: ", 0) == 0);
}

TEST_CASE("config: --set walks dotted paths, parses JSON values, else takes strings") {
  json j = minimal();
  apply_override(j, "training.optimizer.lr=0.05");
  CHECK(j["training"]["optimizer"]["lr"] == 0.05);
  apply_override(j, "model.layers.0.units=512");
  CHECK(j["model"]["layers"][0]["units"] == 512);
  apply_override(j, "name=my run");
  CHECK(j["name"] == "my run");
  apply_override(j, "training.shuffle=false");
  CHECK(j["training"]["shuffle"] == false);
  apply_override(j, R"(data.class_names=["a","b"])");
  CHECK(j["data"]["class_names"] == json::array({"a", "b"}));
  CHECK(config_error([&] { apply_override(j, "model.layers.3.units=1"); }) ==
        "--set model.layers.3.units=1: model.layers has 1 elements, index 3 is out of range");
  CHECK(config_error([&] { apply_override(j, "model.layers.x=1"); }) ==
        "--set model.layers.x=1: model.layers is an array, expected an index, got \"x\"");
  CHECK(config_error([&] { apply_override(j, "name.first=1"); }) ==
        "--set name.first=1: name is \"my run\", not an object, so it has no \"first\"");
  CHECK(config_error([&] { apply_override(j, "no-equals-sign"); }).find("expected PATH=VALUE") != std::string::npos);
  CHECK(config_error([&] { apply_override(j, "a..b=1"); }).find("empty component") != std::string::npos);
}

TEST_CASE("config: defaults are filled in and the training section is checked") {
  const Config c = config_from_json(minimal(), "dir/run-a.json", "dir");
  CHECK(c.json["name"] == "run-a");
  CHECK(c.json["seed"] == 42);
  CHECK(c.json["model"]["loss"] == json{{"type", "softmax_cross_entropy"}});
  CHECK(c.json["training"]["optimizer"] == json{{"type", "sgd"}});
  CHECK(c.json["training"]["lr_schedule"] == json{{"type", "constant"}});
  CHECK(c.json["training"]["epochs"] == 10);
  CHECK(c.json["training"]["batch_size"] == 32);

  json bad = minimal();
  bad["trainnig"] = json::object();
  CHECK(config_error([&] { config_from_json(bad, "c.json", "."); }) ==
        "c.json: /trainnig: unknown key \"trainnig\" (did you mean \"training\"?)");
  bad = minimal();
  bad["training"] = {{"epochs", 0}};
  CHECK(config_error([&] { config_from_json(bad, "c.json", "."); }) ==
        "c.json: /training/epochs: expected a positive integer, got 0");
  bad["training"] = {{"batch_size", "64"}};
  CHECK(config_error([&] { config_from_json(bad, "c.json", "."); }) ==
        "c.json: /training/batch_size: expected a positive integer, got \"64\"");
  bad["training"] = {{"early_stopping", {{"monitor", "val_acc"}}}};
  CHECK(config_error([&] {
          config_from_json(bad, "c.json", ".");
        }).find("/training/early_stopping/monitor: expected one of") != std::string::npos);
  bad = minimal();
  bad.erase("model");
  CHECK(config_error([&] { config_from_json(bad, "c.json", "."); }) == "c.json: /model: required key is missing");
}

TEST_CASE("config: build_experiment checks the optimizer, schedule and loss against the model") {
  json j = minimal();
  j["training"] = {{"optimizer", {{"type", "adamm"}}}};
  CHECK(config_error([&] {
          build_experiment(config_from_json(j, "c.json", "."));
        }).find("unknown optimizer \"adamm\" (did you mean \"adam\"?)") != std::string::npos);
  j = minimal();
  j["model"]["layers"][0]["units"] = 1;
  CHECK(config_error([&] {
          build_experiment(config_from_json(j, "c.json", "."));
        }).find("softmax_cross_entropy needs an output of at least 2 classes") != std::string::npos);
  j = minimal();
  j["training"] = {{"optimizer", {{"type", "adam"}, {"lr", 0.003}}}, {"epochs", 4}};
  const Experiment e = build_experiment(config_from_json(j, "c.json", "."));
  CHECK(e.optimizer->type() == "adam");
  CHECK(e.options.base_lr == doctest::Approx(0.003));
  CHECK(e.options.epochs == 4);
  CHECK(e.net.param_count() == 2 * 2 + 2);
}
