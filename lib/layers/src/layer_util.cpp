// Shared checks for layer factories and build(); see layer_util.h.
#include "layer_util.h"

namespace nettrain {

void check_layer_keys(const ConfigNode& node, const std::vector<std::string>& own) {
  std::vector<std::string> known = {"type", "name", "inputs"};
  known.insert(known.end(), own.begin(), own.end());
  node.check_keys(known);
}

void require_inputs(const std::vector<Shape>& inputs, std::size_t n) {
  if (inputs.size() != n)
    throw ConfigError("expected " + std::to_string(n) + " input" + (n == 1 ? "" : "s") + ", got " +
                      std::to_string(inputs.size()));
  for (const Shape& s : inputs)
    if (s.rank() == 0 || s.size() <= 0) throw ConfigError("input shape " + s.str() + " is empty");
}

WeightInit WeightInit::read(const ConfigNode& node) {
  static const std::vector<std::string> kInits = {"xavier_uniform", "xavier_normal", "he_uniform",
                                                  "he_normal",      "normal",        "zeros"};
  WeightInit w;
  w.user_init = node.has("init");
  w.init = node.get_choice_or("init", kInits, "xavier_uniform");
  if (node.has("std")) {
    if (w.init != "normal") node.fail("std", "only used with \"init\": \"normal\", got init \"" + w.init + "\"");
    w.std = node.get_number("std");
    node.check_min_exclusive("std", w.std, 0.0);
  }
  return w;
}

void WeightInit::set_default(const std::string& next_type) {
  if (user_init) return;
  init = (next_type == "relu" || next_type == "leaky_relu") ? "he_normal" : "xavier_uniform";
}

}  // namespace nettrain
