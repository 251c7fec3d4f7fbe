// Typed, checked access to one JSON object of a config, with errors that name the file and the
// JSON pointer and say expected vs found:
//
//   configs/x.json: /model/layers/2/units: expected a positive integer, got -3
//
// Every reader of config JSON (layers, losses, optimizers, schedules, data, training) goes
// through this class, so every message has the same form and unknown keys are always caught.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nettrain/core/errors.h"

namespace nettrain {

// Levenshtein distance, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The closest of `known` to `word` if it is close enough to be a likely typo, else "".
std::string closest_match(std::string_view word, const std::vector<std::string>& known);

// A value that came from `--set PATH=VALUE` rather than from the file: errors about it (or
// anything inside it) name the override, not the file.
struct SetOverride {
  std::string pointer;     // "/training/optimizer/type"
  std::string assignment;  // "training.optimizer.type=adam", as typed
};
using SetOverrides = std::vector<SetOverride>;

class ConfigNode {
 public:
  // `j` must outlive the node. `pointer` is the JSON pointer of j inside the file ("" = root).
  // `overrides`: the --set values applied to the file (children inherit them).
  ConfigNode(const nlohmann::json& j, std::string pointer, std::string file,
             std::shared_ptr<const SetOverrides> overrides = nullptr);

  const nlohmann::json& json() const { return j_; }
  const std::string& pointer() const { return pointer_; }
  const std::string& file() const { return file_; }

  bool has(const std::string& key) const;
  ConfigNode child(const std::string& key) const;  // requires has(key)
  ConfigNode at(std::size_t index) const;          // for arrays
  std::size_t size() const;                        // for arrays
  bool is_object() const { return j_.is_object(); }
  bool is_array() const { return j_.is_array(); }
  bool is_string() const { return j_.is_string(); }

  // Throws ConfigError for the first key not in `known`, with a "did you mean" hint.
  void check_keys(const std::vector<std::string>& known) const;
  // Throws ConfigError unless this node is a JSON object.
  void require_object(std::string_view what = "an object") const;

  // Typed getters. The *_or forms return `fallback` when the key is absent (null counts as
  // absent); the plain forms throw ConfigError when it is absent. Range checks are inclusive
  // unless named otherwise.
  std::int64_t get_int(const std::string& key) const;
  std::int64_t get_int_or(const std::string& key, std::int64_t fallback) const;
  std::int64_t get_positive_int(const std::string& key) const;
  std::int64_t get_positive_int_or(const std::string& key, std::int64_t fallback) const;
  double get_number(const std::string& key) const;
  double get_number_or(const std::string& key, double fallback) const;
  bool get_bool_or(const std::string& key, bool fallback) const;
  std::string get_string(const std::string& key) const;
  std::string get_string_or(const std::string& key, const std::string& fallback) const;
  // A string that must be one of `choices`; the error lists them.
  std::string get_choice(const std::string& key, const std::vector<std::string>& choices) const;
  std::string get_choice_or(const std::string& key, const std::vector<std::string>& choices,
                            const std::string& fallback) const;
  std::vector<std::int64_t> get_int_array(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;

  // Range checks on a value already read, with the key's pointer in the message.
  void check_range(const std::string& key, double value, double lo, double hi) const;
  void check_min_exclusive(const std::string& key, double value, double lo) const;

  // "file: /pointer/key: message", or "--set a.b=1: /a/b: message" for a value from --set
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  [[noreturn]] void fail(const std::string& message) const;
  std::string where(const std::string& key = "") const;

 private:
  const nlohmann::json& value(const std::string& key) const;  // requires has(key)
  // The hint for an unknown key left in this object beside a --set sibling, or "".
  std::string leftover_hint(const std::string& key_pointer) const;
  // The override that set `pointer` or an object around it, or nullptr.
  const SetOverride* override_of(const std::string& pointer) const;

  const nlohmann::json& j_;
  std::string pointer_;
  std::string file_;
  std::shared_ptr<const SetOverrides> overrides_;
};

// Short description of a JSON value for "got ..." in messages: `-3`, `"abc"`, `an array`.
std::string describe_json(const nlohmann::json& j);

}  // namespace nettrain
