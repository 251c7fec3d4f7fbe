// The resume policy; see resume.h.
#include "nettrain/run/resume.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>

#include "nettrain/core/errors.h"

namespace nettrain {

namespace {

namespace fs = std::filesystem;

// The settings a resume may change (and, for each, the keys under it).
const std::vector<std::string> kResumable = {"training.epochs", "training.early_stopping", "training.checkpoint_every",
                                             "training.log_every_steps"};

bool resumable(const std::string& path) {
  for (const auto& r : kResumable)
    if (path == r || path.rfind(r + ".", 0) == 0) return true;
  return false;
}

void diff(const nlohmann::json& a, const nlohmann::json& b, const std::string& at, std::vector<std::string>& out) {
  const auto join = [&](const std::string& key) { return at.empty() ? key : at + "." + key; };
  if (a.is_object() && b.is_object()) {
    for (const auto& [k, v] : a.items())
      if (!b.contains(k)) out.push_back(join(k));
      else diff(v, b[k], join(k), out);
    for (const auto& [k, v] : b.items())
      if (!a.contains(k)) out.push_back(join(k));
  } else if (a.is_array() && b.is_array() && a.size() == b.size()) {
    for (std::size_t i = 0; i < a.size(); ++i) diff(a[i], b[i], join(std::to_string(i)), out);
  } else if (a != b) {
    out.push_back(at);
  }
}

}  // namespace

std::vector<std::string> changed_paths(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<std::string> out;
  diff(a, b, "", out);
  return out;
}

void check_resume_arguments(const std::string& run_dir, const std::string& config_arg,
                            const std::optional<std::int64_t>& seed) {
  if (!config_arg.empty())
    throw ConfigError(fmt::format(
        "--resume {} continues that run with its own config.json; a CONFIG argument ({}) cannot be combined with "
        "it: start a new run with --out, or change what a resume allows with --set ({})",
        run_dir, config_arg, fmt::join(kResumable, ", ")));
  if (seed)
    throw ConfigError(
        fmt::format("--seed {} on --resume {}: the seed fixed the run's initial weights, validation split "
                    "and data order; a resumed run keeps the seed it started with",
                    *seed, run_dir));
}

Config resume_config(const std::string& run_dir, const std::vector<std::string>& overrides,
                     const nlohmann::json& checkpointed) {
  const std::string file = (fs::path(run_dir) / "config.json").string();
  if (!fs::exists(file))
    throw IoError(fmt::format("cannot resume {}: no config.json in it (is it a run directory?)", run_dir));
  const std::vector<std::string> edited = changed_paths(checkpointed, load_config(file, {}).json);
  Config after = load_config(file, overrides);
  for (const std::string& path : changed_paths(checkpointed, after.json)) {
    if (resumable(path)) continue;
    const bool by_hand = std::find(edited.begin(), edited.end(), path) != edited.end();
    throw ConfigError(fmt::format(
        "{} on --resume {}: a resumed run must end as the run it continues, so it cannot change {} (it shaped "
        "the weights, data or optimizer state so far); allowed on resume: {}",
        by_hand ? fmt::format("{} differs from the checkpoint's config at {}", file, path) : "--set " + path, run_dir,
        path, fmt::join(kResumable, ", ")));
  }
  const auto epochs_before = checkpointed["training"]["epochs"].get<std::int64_t>();
  const auto epochs_after = after.json["training"]["epochs"].get<std::int64_t>();
  if (epochs_after < epochs_before)
    throw ConfigError(
        fmt::format("--set training.epochs={} on --resume {}: the run was set to {} epochs; a resume can "
                    "only add epochs (start a new run to train for fewer)",
                    epochs_after, run_dir, epochs_before));
  return after;
}

}  // namespace nettrain
