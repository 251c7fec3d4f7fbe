// Writing and loading models and checkpoints; see model_file.h for the layout.
#include "nettrain/run/model_file.h"

#include <filesystem>

#include "nettrain/core/errors.h"

namespace nettrain {

namespace {

nlohmann::json architecture_json(const Network& net) {
  nlohmann::json arch = nlohmann::json::array();
  for (const auto& n : net.summary())
    arch.push_back({{"name", n.name},
                    {"type", n.type},
                    {"inputs", n.inputs},
                    {"output_shape", n.output_shape.dims},
                    {"params", n.params}});
  return arch;
}

nlohmann::json parse_meta(const SafetensorsFile& f, const std::string& key) {
  try {
    return nlohmann::json::parse(f.require_metadata(key));
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(f.path() + ": __metadata__/" + key + " is not valid JSON: " + e.what());
  }
}

}  // namespace

SafetensorsWriter model_writer(const Network& net, const Config& config, const ModelMetadata& meta) {
  SafetensorsWriter w;
  for (const auto& t : net.tensors())
    w.add_f32(t.name, t.shape, (t.trainable ? net.params() : net.buffers()).data() + t.offset);
  w.set_metadata("format", "nettrain-model-1");
  w.set_metadata("nettrain_version", NETTRAIN_VERSION);
  w.set_metadata("config", config.json.dump());
  w.set_metadata("class_names", meta.class_names.dump());
  w.set_metadata("preprocess", meta.preprocess.dump());
  w.set_metadata("metrics", meta.metrics.dump());
  w.set_metadata("architecture", architecture_json(net).dump());
  return w;
}

SafetensorsWriter checkpoint_writer(Network& net, const Config& config, const ModelMetadata& meta, Optimizer& opt,
                                    const Schedule& schedule, const TrainerState& state, const nlohmann::json& extra) {
  SafetensorsWriter w = model_writer(net, config, meta);
  w.set_metadata("format", "nettrain-checkpoint-1");
  nlohmann::json names = nlohmann::json::array();
  for (auto& [name, vec] : opt.state()) {
    if (vec->size() != net.param_count()) continue;  // not yet sized: nothing to save
    w.add_f32("optimizer." + name, {vec->size()}, vec->data());
    names.push_back(name);
  }
  w.set_metadata("optimizer", nlohmann::json{{"type", opt.type()}, {"steps", opt.steps()}, {"state", names}}.dump());
  w.set_metadata("schedule_state", nlohmann::json(schedule.state()).dump());
  w.set_metadata("trainer_state", state.to_json().dump());
  if (!extra.is_null()) w.set_metadata("run_files", extra.dump());
  return w;
}

std::string resolve_model_path(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return (std::filesystem::path(path) / "model.safetensors").string();
  return path;
}

std::string best_model_path(const std::string& run_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(run_dir, ec))
    throw ConfigError("--best takes a run directory (it uses the run's best.safetensors), got " + run_dir);
  const std::string best = (std::filesystem::path(run_dir) / "best.safetensors").string();
  if (!std::filesystem::exists(best))
    throw IoError(best + " does not exist: the run had no validation split or early stopping to choose a best epoch");
  return best;
}

LoadedModel load_model(const std::string& given) {
  const std::string path = resolve_model_path(given);
  SafetensorsFile file = SafetensorsFile::open(path);
  const std::string format = file.require_metadata("format");
  if (format != "nettrain-model-1" && format != "nettrain-checkpoint-1")
    throw ModelFileError(path + ": __metadata__/format is \"" + format + "\", expected \"nettrain-model-1\"");
  nlohmann::json cfg = parse_meta(file, "config");
  Config config;
  try {
    config =
        config_from_json(std::move(cfg), path + " (stored config)", std::filesystem::path(path).parent_path().string());
  } catch (const ConfigError& e) {
    throw ModelFileError(std::string("stored config is invalid: ") + e.what());
  }
  LoadedModel m{std::move(config), Network(), nullptr, ModelMetadata(), std::move(file)};
  try {
    m.net = Network::from_config(m.config.root().child("model"));
    m.loss = build_loss(m.config);
  } catch (const ConfigError& e) {
    throw ModelFileError(std::string("stored architecture cannot be built: ") + e.what());
  }
  m.meta.class_names = parse_meta(m.file, "class_names");
  m.meta.preprocess = parse_meta(m.file, "preprocess");
  m.meta.metrics = parse_meta(m.file, "metrics");
  if (!m.meta.class_names.is_array()) throw ModelFileError(path + ": __metadata__/class_names is not an array");

  for (const auto& t : m.net.tensors()) {
    Vector& store = t.trainable ? m.net.params() : m.net.buffers();
    m.file.read_f32(t.name, t.shape, std::span<float>(store.data() + t.offset, static_cast<std::size_t>(t.size)));
  }
  for (const auto& t : m.file.tensors()) {
    if (t.name.rfind("optimizer.", 0) == 0) continue;
    bool known = false;
    for (const auto& nt : m.net.tensors()) known = known || nt.name == t.name;
    if (!known) throw ModelFileError(path + ": tensor \"" + t.name + "\" is not part of the stored architecture");
  }
  if (!m.net.params().allFinite() || !m.net.buffers().allFinite())
    throw ModelFileError(path + ": tensor \"" + m.net.first_nonfinite_tensor(false) + "\" holds NaN or Inf");
  const Index out = m.net.output_shape().size();
  if (!m.meta.class_names.empty() && static_cast<Index>(m.meta.class_names.size()) != out && out > 1)
    throw ModelFileError(path + ": " + std::to_string(m.meta.class_names.size()) + " class names for " +
                         std::to_string(out) + " outputs");
  return m;
}

TrainerState restore_checkpoint(const LoadedModel& ckpt, Optimizer& opt, Schedule& schedule) {
  const SafetensorsFile& f = ckpt.file;
  if (f.require_metadata("format") != "nettrain-checkpoint-1")
    throw ModelFileError(f.path() + ": not a checkpoint (format " + f.require_metadata("format") + ")");
  const nlohmann::json o = parse_meta(f, "optimizer");
  if (!o.is_object() || o.value("type", "") != opt.type())
    throw ModelFileError(f.path() + ": the checkpoint's optimizer is \"" + o.value("type", "?") +
                         "\", the config's is \"" + opt.type() + "\"");
  opt.reset(ckpt.net.param_count());
  const auto saved = o.value("state", nlohmann::json::array());
  for (auto& [name, vec] : opt.state()) {
    bool present = false;
    for (const auto& s : saved) present = present || s == name;
    if (!present) continue;
    f.read_f32("optimizer." + name, {vec->size()},
               std::span<float>(vec->data(), static_cast<std::size_t>(vec->size())));
  }
  opt.set_steps(o.value("steps", std::int64_t{0}));
  const nlohmann::json s = parse_meta(f, "schedule_state");
  try {
    schedule.set_state(s.get<std::map<std::string, double>>());
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(f.path() + ": __metadata__/schedule_state: " + e.what());
  }
  const nlohmann::json trainer_state = parse_meta(f, "trainer_state");
  try {
    return TrainerState::from_json(trainer_state);
  } catch (const ModelFileError& e) {
    throw ModelFileError(f.path() + ": " + e.what());
  }
}

}  // namespace nettrain
