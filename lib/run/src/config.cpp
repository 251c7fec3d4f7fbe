// Config parsing, overrides, schema checks and defaults; see config.h.
#include "nettrain/run/config.h"

#include <algorithm>
#include <charconv>
#include <filesystem>

#include <fmt/format.h>

#include "nettrain/core/errors.h"
#include "nettrain/core/files.h"
#include "nettrain/run/transfer.h"
#include "nettrain/train/registry.h"

namespace nettrain {

namespace {

const std::vector<std::string> kTopKeys = {"name", "description", "seed", "data", "model", "training"};
const std::vector<std::string> kModelKeys = {"input_shape", "inputs", "layers",         "loss",
                                             "init_from",   "freeze", "label_smoothing"};
const std::vector<std::string> kTrainingKeys = {
    "epochs",          "batch_size",           "shuffle",          "optimizer",
    "lr_schedule",     "early_stopping",       "checkpoint_every", "log_every_steps",
    "eval_batch_size", "restore_best_weights", "batch_shards"};
const std::vector<std::string> kEarlyStoppingKeys = {"monitor", "patience", "min_delta"};
const std::vector<std::string> kMonitors = {"val_loss", "val_accuracy", "train_loss", "train_accuracy"};

// A key as a JSON pointer token: "~" -> "~0", "/" -> "~1".
std::string escape_token(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

// Converts a "type" that may be given as a bare string into {"type": ...}.
void normalise_typed(nlohmann::json& parent, const std::string& key, const std::string& fallback) {
  if (!parent.contains(key) || parent[key].is_null()) parent[key] = {{"type", fallback}};
  else if (parent[key].is_string()) parent[key] = {{"type", parent[key].get<std::string>()}};
  else if (parent[key].is_object() && !parent[key].contains("type")) parent[key]["type"] = fallback;
}

}  // namespace

nlohmann::json parse_json_text(const std::string& text, const std::string& file) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // Position of the byte where parsing stopped, as line:column (1-based).
    const std::size_t at = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < at; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = e.what();
    const auto colon = what.find(": ", what.find("parse error"));
    if (colon != std::string::npos) what = what.substr(colon + 2);
    throw ConfigError(file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what);
  } catch (const nlohmann::json::exception& e) {
    // "number overflow parsing '1e400'": nlohmann gives no position, so find the literal.
    std::string what = e.what();
    const auto q1 = what.find('\''), q2 = what.rfind('\'');
    std::string where = file;
    if (q1 != std::string::npos && q2 > q1) {
      const auto at = text.find(what.substr(q1 + 1, q2 - q1 - 1));
      if (at != std::string::npos) {
        const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
        const auto nl = text.rfind('\n', at);
        where += ":" + std::to_string(line) + ":" + std::to_string(at - (nl == std::string::npos ? 0 : nl + 1) + 1);
      }
    }
    const auto bracket = what.find("] ");
    throw ConfigError(where + ": " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
  }
}

std::string apply_override(nlohmann::json& j, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set " + assignment + ": expected PATH=VALUE, e.g. training.optimizer.lr=0.05");
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    value = text;  // not JSON (or a number out of range): a plain string
  }
  nlohmann::json* node = &j;
  std::string walked, pointer;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) throw ConfigError("--set " + assignment + ": empty component in path \"" + path + "\"");
    const std::string here = walked.empty() ? key : walked + "." + key;
    nlohmann::json* next = nullptr;
    if (node->is_array()) {
      std::size_t index = 0;
      const auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
      if (ec != std::errc() || p != key.data() + key.size())
        throw ConfigError("--set " + assignment + ": " + (walked.empty() ? "the config" : walked) +
                          " is an array, expected an index, got \"" + key + "\"");
      if (index >= node->size())
        throw ConfigError("--set " + assignment + ": " + walked + " has " + std::to_string(node->size()) +
                          " elements, index " + key + " is out of range");
      next = &(*node)[index];
    } else {
      if (node->is_null()) *node = nlohmann::json::object();
      if (!node->is_object())
        throw ConfigError("--set " + assignment + ": " + walked + " is " + describe_json(*node) +
                          ", not an object, so it has no \"" + key + "\"");
      next = &(*node)[key];
    }
    pointer += "/" + escape_token(key);
    if (dot == std::string::npos) {
      *next = value;
      return pointer;
    }
    node = next;
    walked = here;
    start = dot + 1;
  }
}

Config config_from_json(nlohmann::json j, const std::string& file, const std::string& base_dir,
                        std::shared_ptr<const SetOverrides> overrides) {
  Config c;
  c.file = file;
  c.base_dir = base_dir;
  c.overrides = std::move(overrides);
  {
    const ConfigNode root(j, "", file, c.overrides);
    root.require_object("a config object");
    root.check_keys(kTopKeys);
    if (!j.contains("model")) root.fail("model", "required key is missing");
    if (!j.contains("data")) root.fail("data", "required key is missing");
    root.child("model").check_keys(kModelKeys);
    if (j.contains("training")) root.child("training").require_object();
  }
  if (!j.contains("name") || j["name"].is_null())
    j["name"] = file.empty() ? "run" : std::filesystem::path(file).stem().string();
  if (!j.contains("seed") || j["seed"].is_null()) j["seed"] = 42;
  normalise_typed(j["model"], "loss", "softmax_cross_entropy");
  if (!j.contains("training") || j["training"].is_null()) j["training"] = nlohmann::json::object();
  auto& t = j["training"];
  normalise_typed(t, "optimizer", "sgd");
  normalise_typed(t, "lr_schedule", "constant");
  const nlohmann::json defaults = {{"epochs", 10},
                                   {"batch_size", 32},
                                   {"shuffle", true},
                                   {"checkpoint_every", 1},
                                   {"log_every_steps", 10},
                                   {"eval_batch_size", 1000},
                                   {"restore_best_weights", false}};
  for (const auto& [k, v] : defaults.items())
    if (!t.contains(k) || t[k].is_null()) t[k] = v;
  if (t.contains("early_stopping") && t["early_stopping"].is_object()) {
    auto& es = t["early_stopping"];
    if (!es.contains("monitor")) es["monitor"] = "val_loss";
    if (!es.contains("patience")) es["patience"] = 3;
    if (!es.contains("min_delta")) es["min_delta"] = 0.0;
  }
  c.json = std::move(j);
  // Validate the training section now so errors come before any data is read.
  const ConfigNode root = c.root();
  root.get_string("name");
  root.get_int("seed");
  const ConfigNode tr = root.child("training");
  tr.check_keys(kTrainingKeys);
  tr.check_range("epochs", static_cast<double>(tr.get_positive_int("epochs")), 1, 1e7);
  tr.check_range("batch_size", static_cast<double>(tr.get_positive_int("batch_size")), 1, 1 << 20);
  tr.get_bool_or("shuffle", true);
  if (tr.get_int("checkpoint_every") < 0)
    tr.fail("checkpoint_every", "expected an integer >= 0, got " + std::to_string(tr.get_int("checkpoint_every")));
  if (tr.get_int("log_every_steps") < 0)
    tr.fail("log_every_steps", "expected an integer >= 0, got " + std::to_string(tr.get_int("log_every_steps")));
  tr.get_positive_int("eval_batch_size");
  tr.get_bool_or("restore_best_weights", false);
  if (tr.has("batch_shards")) {
    const std::int64_t s = tr.get_positive_int("batch_shards");
    if (s > 64 || (s & (s - 1)) != 0 || s > tr.get_int("batch_size"))
      tr.fail("batch_shards", "expected a power of two from 1 to 64, at most batch_size (" +
                                  std::to_string(tr.get_int("batch_size")) + "), got " + std::to_string(s));
  }
  const ConfigNode model = root.child("model");
  if (model.has("init_from")) model.get_string("init_from");
  if (model.has("freeze")) model.get_string_array("freeze");
  if (tr.has("early_stopping")) {
    const ConfigNode es = tr.child("early_stopping");
    es.require_object();
    es.check_keys(kEarlyStoppingKeys);
    es.get_choice("monitor", kMonitors);
    es.get_positive_int("patience");
    es.check_range("min_delta", es.get_number("min_delta"), 0, 1e30);
  }
  return c;
}

namespace {

// The config values that are file paths.
std::vector<std::string> path_pointers() {
  std::vector<std::string> out = {"/model/init_from"};
  for (const char* split : {"train", "validation", "test"})
    for (const char* key : {"images", "labels", "path"}) out.push_back(std::string("/data/") + split + "/" + key);
  return out;
}

// Makes the relative file paths at or under `pointer` (just set by --set) absolute against the
// current directory.
void absolutize_override_paths(nlohmann::json& j, const std::string& pointer) {
  for (const std::string& p : path_pointers()) {
    if (p != pointer && !p.starts_with(pointer + "/")) continue;
    const nlohmann::json::json_pointer jp(p);
    if (!j.contains(jp) || !j.at(jp).is_string()) continue;
    const std::filesystem::path value(j.at(jp).get<std::string>());
    if (value.is_relative()) j.at(jp) = std::filesystem::absolute(value).lexically_normal().string();
  }
}

}  // namespace

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  nlohmann::json j = parse_json_text(read_file(path), path);
  auto set = std::make_shared<SetOverrides>();
  for (const auto& o : overrides) {
    const std::string pointer = apply_override(j, o);
    absolutize_override_paths(j, pointer);
    set->push_back({pointer, o});
  }
  std::string base = std::filesystem::path(path).parent_path().string();
  if (base.empty()) base = ".";
  return config_from_json(std::move(j), path, base, std::move(set));
}

std::unique_ptr<Loss> build_loss(const Config& config) {
  const ConfigNode model = config.root().child("model");
  const ConfigNode loss = model.child("loss");
  loss.require_object();
  auto l = loss_registry().create(loss.get_string("type"), loss);
  if (model.has("label_smoothing")) {
    const double eps = model.get_number("label_smoothing");
    if (!l->supports_label_smoothing())
      model.fail("label_smoothing", "smooths class labels; the loss " + l->type() + " takes none");
    if (!(eps >= 0.0 && eps < 1.0)) model.fail("label_smoothing", fmt::format("must be in [0, 1), got {}", eps));
    l->set_label_smoothing(eps);
  }
  return l;
}

Experiment build_experiment(const Config& config) {
  const ConfigNode root = config.root();
  Experiment e;
  e.net = Network::from_config(root.child("model"));
  e.loss = build_loss(config);
  const ConfigNode tr = root.child("training");
  const ConfigNode opt = tr.child("optimizer");
  e.optimizer = optimizer_registry().create(opt.get_string("type"), opt);
  const ConfigNode sched = tr.child("lr_schedule");
  e.schedule = schedule_registry().create(sched.get_string("type"), sched);

  TrainOptions& o = e.options;
  o.epochs = tr.get_int("epochs");
  o.batch_size = tr.get_int("batch_size");
  o.shuffle = tr.get_bool_or("shuffle", true);
  o.checkpoint_every = tr.get_int("checkpoint_every");
  o.log_every_steps = tr.get_int("log_every_steps");
  o.eval_batch_size = tr.get_int("eval_batch_size");
  o.batch_shards = tr.has("batch_shards") ? tr.get_int("batch_shards") : 1;
  o.seed = static_cast<std::uint64_t>(root.get_int("seed"));
  o.base_lr = e.optimizer->base_lr();
  o.restore_best_weights = tr.get_bool_or("restore_best_weights", false);
  o.frozen = frozen_slices(e.net, root.child("model"));
  const ConfigNode data = root.child("data");
  if (data.has("augment")) {
    o.augment = parse_augment(data.child("augment"));
    const Shape in = e.net.input_shape();
    if (o.augment.enabled() && in.dims.size() != 2 && in.dims.size() != 3)
      data.fail("augment",
                "shifts and flips images: model.input_shape must be [channels, height, width] or "
                "[height, width], got " +
                    in.str());
    const std::size_t d = in.dims.size();
    if (o.augment.shift > 0 && o.augment.shift >= std::min(in.dims[d - 2], in.dims[d - 1]))
      data.child("augment").fail("shift", fmt::format("must be smaller than the image ({}x{}), got {}", in.dims[d - 2],
                                                      in.dims[d - 1], o.augment.shift));
  }
  if (tr.has("early_stopping")) {
    const ConfigNode es = tr.child("early_stopping");
    o.early_stopping.enabled = true;
    o.early_stopping.monitor = es.get_string("monitor");
    o.early_stopping.patience = es.get_int("patience");
    o.early_stopping.min_delta = es.get_number("min_delta");
  }
  const Index out = e.net.output_shape().size();
  if (out < e.loss->min_outputs())
    root.child("model").fail("loss", e.loss->type() + " needs an output of at least " +
                                         std::to_string(e.loss->min_outputs()) + " classes, the last layer gives " +
                                         std::to_string(out));
  return e;
}

}  // namespace nettrain
