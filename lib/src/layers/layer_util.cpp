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

}  // namespace nettrain
