// Shared checks for layer factories and build(); see layer_util.h.
#include "layer_util.h"

#include <fmt/format.h>

#include "nettrain/core/init.h"

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
  WeightInit w;
  w.user_init = node.has("init");
  w.init = node.get_choice_or("init", initializer_names(), "xavier_uniform");
  if (node.has("std")) {
    if (w.init != "normal") node.fail("std", "only used with \"init\": \"normal\", got init \"" + w.init + "\"");
    w.std = node.get_number("std");
    node.check_min_exclusive("std", w.std, 0.0);
  }
  w.bias = node.get_bool_or("bias", true);
  return w;
}

void WeightedLayer::bind(const std::vector<float*>& params, const std::vector<float*>& grads,
                         const std::vector<float*>&) {
  W_ = params.at(0);
  dW_ = grads.at(0);
  if (init_.bias) {
    b_ = params.at(1);
    db_ = grads.at(1);
  }
}

void WeightedLayer::set_default_init(bool rectifier_follows) {
  if (!init_.user_init) init_.init = rectifier_follows ? "he_normal" : "xavier_uniform";
}

std::vector<TensorSpec> WeightedLayer::weight_and_bias(std::vector<Index> shape, Index bias_size, Index fan_in,
                                                       Index fan_out) const {
  std::vector<TensorSpec> specs;
  specs.push_back({"weight", std::move(shape), InitSpec{init_.init, init_.std, fan_in, fan_out}});
  if (init_.bias) specs.push_back({"bias", {bias_size}, InitSpec{"zeros", 0.0, fan_in, fan_out}});
  return specs;
}

std::string WeightedLayer::describe_init() const {
  std::string s = " init=" + init_.init;
  if (init_.init == "normal") s += fmt::format(" std={}", init_.std);
  if (!init_.bias) s += " bias=false";
  return s;
}

}  // namespace nettrain
