// The registry template: name -> factory from a config object. Each module that has a kind of
// thing to build by name fills one (layers: layers/registry.h; losses, optimizers and LR
// schedules: train/registry.h) in one readable function; an unknown "type" is a ConfigError that
// lists the known names and suggests the closest.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "nettrain/core/config_node.h"

namespace nettrain {

template <class T>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<T>(const ConfigNode&)>;

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  void add(const std::string& name, Factory f) { factories_[name] = std::move(f); }
  bool contains(const std::string& name) const { return factories_.count(name) != 0; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : factories_) out.push_back(k);
    return out;
  }
  // Builds `name` from `node`; `type_key` is the key that held the name (for the error pointer).
  std::unique_ptr<T> create(const std::string& name, const ConfigNode& node,
                            const std::string& type_key = "type") const {
    auto it = factories_.find(name);
    if (it == factories_.end()) {
      std::string msg = "unknown " + kind_ + " \"" + name + "\"";
      std::string hint = closest_match(name, names());
      if (!hint.empty()) msg += " (did you mean \"" + hint + "\"?)";
      node.fail(type_key, fmt::format("{}; known: {}", msg, fmt::join(names(), ", ")));
    }
    return it->second(node);
  }

 private:
  std::string kind_;
  std::map<std::string, Factory> factories_;
};

}  // namespace nettrain
