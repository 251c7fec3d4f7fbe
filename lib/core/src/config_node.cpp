// Checked access to config JSON; see config_node.h for the message format.
#include "nettrain/core/config_node.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace nettrain {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  for (const auto& k : known) {
    const std::size_t d = edit_distance(word, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  // A typo is at most a third of the word's letters away (and at least one edit is allowed).
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  return best_d <= limit ? best : std::string();
}

std::string describe_json(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: {
      std::string s = j.get<std::string>();
      if (s.size() > 40) s = s.substr(0, 37) + "...";
      return "\"" + s + "\"";
    }
    default: {
      std::string s = j.dump();
      if (s.size() > 40) s = s.substr(0, 37) + "...";
      return s;
    }
  }
}

namespace {

// `pointer` with one more token; nlohmann escapes '~' and '/' in it.
std::string append_token(const std::string& pointer, const std::string& key) {
  return (nlohmann::json::json_pointer(pointer) / key).to_string();
}

}  // namespace

ConfigNode::ConfigNode(const nlohmann::json& j, std::string pointer, std::string file,
                       std::shared_ptr<const SetOverrides> overrides)
    : j_(j), pointer_(std::move(pointer)), file_(std::move(file)), overrides_(std::move(overrides)) {}

const SetOverride* ConfigNode::override_of(const std::string& pointer) const {
  if (!overrides_) return nullptr;
  // The last --set that reached this value is the one that holds it.
  for (auto it = overrides_->rbegin(); it != overrides_->rend(); ++it)
    if (pointer == it->pointer || pointer.starts_with(it->pointer + "/")) return &*it;
  return nullptr;
}

std::string ConfigNode::where(const std::string& key) const {
  std::string p = pointer_;
  if (!key.empty()) p = append_token(p, key);
  if (p.empty()) p = "/";
  if (const SetOverride* o = override_of(p)) return "--set " + o->assignment + ": " + p;
  return file_.empty() ? p : file_ + ": " + p;
}

void ConfigNode::fail(const std::string& key, const std::string& message) const {
  throw ConfigError(where(key) + ": " + message);
}

void ConfigNode::fail(const std::string& message) const { fail("", message); }

bool ConfigNode::has(const std::string& key) const {
  return j_.is_object() && j_.contains(key) && !j_.at(key).is_null();
}

const nlohmann::json& ConfigNode::value(const std::string& key) const {
  if (!j_.is_object()) fail("expected an object, got " + describe_json(j_));
  if (!has(key)) fail(key, "required key is missing");
  return j_.at(key);
}

ConfigNode ConfigNode::child(const std::string& key) const {
  return ConfigNode(value(key), append_token(pointer_, key), file_, overrides_);
}

ConfigNode ConfigNode::at(std::size_t index) const {
  if (!j_.is_array() || index >= j_.size()) fail("expected an array with an element " + std::to_string(index));
  return ConfigNode(j_.at(index), pointer_ + "/" + std::to_string(index), file_, overrides_);
}

std::size_t ConfigNode::size() const { return j_.is_array() || j_.is_object() ? j_.size() : 0; }

void ConfigNode::require_object(std::string_view what) const {
  if (!j_.is_object()) fail("expected " + std::string(what) + ", got " + describe_json(j_));
}

// A key from the file that stays beside a --set of one of its siblings (`--set
// training.optimizer.type=adam` keeps the file's "momentum"): say how to replace the object.
std::string ConfigNode::leftover_hint(const std::string& key_pointer) const {
  if (!overrides_ || override_of(key_pointer)) return "";
  for (auto it = overrides_->rbegin(); it != overrides_->rend(); ++it) {
    if (it->pointer.rfind('/') != pointer_.size() || !it->pointer.starts_with(pointer_ + "/")) continue;
    std::string object = pointer_.substr(1);
    std::replace(object.begin(), object.end(), '/', '.');
    const std::string key = it->pointer.substr(pointer_.size() + 1);
    const std::string text = it->assignment.substr(it->assignment.find('=') + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded()) value = text;
    return "; --set " + it->assignment + " kept the other keys of " + object +
           " from the file: to replace the whole object, --set '" + object + "={\"" + key + "\": " + value.dump() +
           ", ...}'";
  }
  return "";
}

void ConfigNode::check_keys(const std::vector<std::string>& known) const {
  require_object();
  for (const auto& [key, v] : j_.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string msg = "unknown key \"" + key + "\"";
    std::string hint = closest_match(key, known);
    if (!hint.empty()) msg += " (did you mean \"" + hint + "\"?)";
    if (hint.empty() && !known.empty()) {
      msg += fmt::format("; known keys: {}", fmt::join(known, ", "));
    }
    msg += leftover_hint(append_token(pointer_, key));
    fail(key, msg);
  }
}

std::int64_t ConfigNode::get_int(const std::string& key) const {
  const auto& v = value(key);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail(key, "expected an integer, got " + describe_json(v) + " (too large)");
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return static_cast<std::int64_t>(d);
  }
  fail(key, "expected an integer, got " + describe_json(v));
}

std::int64_t ConfigNode::get_int_or(const std::string& key, std::int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}

std::int64_t ConfigNode::get_positive_int(const std::string& key) const {
  const auto& v = value(key);
  bool ok = v.is_number_integer() || v.is_number_unsigned() ||
            (v.is_number_float() && v.get<double>() == std::floor(v.get<double>()));
  if (!ok) fail(key, "expected a positive integer, got " + describe_json(v));
  const std::int64_t n = get_int(key);
  if (n <= 0) fail(key, "expected a positive integer, got " + describe_json(v));
  return n;
}

std::int64_t ConfigNode::get_positive_int_or(const std::string& key, std::int64_t fallback) const {
  return has(key) ? get_positive_int(key) : fallback;
}

double ConfigNode::get_number(const std::string& key) const {
  const auto& v = value(key);
  if (!v.is_number()) fail(key, "expected a number, got " + describe_json(v));
  const double d = v.get<double>();
  if (!std::isfinite(d)) fail(key, "expected a finite number, got " + describe_json(v));
  return d;
}

double ConfigNode::get_number_or(const std::string& key, double fallback) const {
  return has(key) ? get_number(key) : fallback;
}

bool ConfigNode::get_bool_or(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const auto& v = value(key);
  if (!v.is_boolean()) fail(key, "expected true or false, got " + describe_json(v));
  return v.get<bool>();
}

std::string ConfigNode::get_string(const std::string& key) const {
  const auto& v = value(key);
  if (!v.is_string()) fail(key, "expected a string, got " + describe_json(v));
  return v.get<std::string>();
}

std::string ConfigNode::get_string_or(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}

std::string ConfigNode::get_choice(const std::string& key, const std::vector<std::string>& choices) const {
  const std::string s = get_string(key);
  if (std::find(choices.begin(), choices.end(), s) != choices.end()) return s;
  std::string msg = fmt::format("expected one of \"{}\", got \"{}\"", fmt::join(choices, "\", \""), s);
  const std::string hint = closest_match(s, choices);
  if (!hint.empty()) msg += " (did you mean \"" + hint + "\"?)";
  fail(key, msg);
}

std::string ConfigNode::get_choice_or(const std::string& key, const std::vector<std::string>& choices,
                                      const std::string& fallback) const {
  return has(key) ? get_choice(key, choices) : fallback;
}

std::vector<std::int64_t> ConfigNode::get_int_array(const std::string& key) const {
  const auto& v = value(key);
  if (!v.is_array()) fail(key, "expected an array of integers, got " + describe_json(v));
  const ConfigNode arr = child(key);
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto& e = v[i];
    if (!(e.is_number_integer() || e.is_number_unsigned()))
      arr.fail(std::to_string(i), "expected an integer, got " + describe_json(e));
    out.push_back(e.get<std::int64_t>());
  }
  return out;
}

std::vector<std::string> ConfigNode::get_string_array(const std::string& key) const {
  const auto& v = value(key);
  if (!v.is_array()) fail(key, "expected an array of strings, got " + describe_json(v));
  const ConfigNode arr = child(key);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) arr.fail(std::to_string(i), "expected a string, got " + describe_json(v[i]));
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

void ConfigNode::check_range(const std::string& key, double value, double lo, double hi) const {
  if (value < lo || value > hi) {
    fail(key, fmt::format("expected a number in [{:g}, {:g}], got {:g}", lo, hi, value));
  }
}

void ConfigNode::check_min_exclusive(const std::string& key, double value, double lo) const {
  if (!(value > lo)) {
    fail(key, fmt::format("expected a number > {:g}, got {:g}", lo, value));
  }
}

}  // namespace nettrain
