// Initializers (see init.h). Every draw comes from the caller's Rng, one draw per element in
// order, so the same Rng state always gives the same floats:
//
//   xavier_uniform  U(-a, a), a = sqrt(6 / (fan_in + fan_out))     u in [0,1) -> (2u - 1)·a
//   xavier_normal   N(0, σ²), σ = sqrt(2 / (fan_in + fan_out))     Rng::normal()·σ
//   he_uniform      U(-a, a), a = sqrt(6 / fan_in)
//   he_normal       N(0, σ²), σ = sqrt(2 / fan_in)
//   normal          N(0, std²)
//   zeros, ones     constants ("ones" is internal: batchnorm's scale)
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "nettrain/core/config_node.h"
#include "nettrain/core/errors.h"
#include "nettrain/core/init.h"

namespace nettrain {
namespace {

void fill_uniform(std::span<float> out, double a, Rng& rng) {
  for (float& x : out) x = static_cast<float>((2.0 * rng.uniform_double() - 1.0) * a);
}

void fill_normal(std::span<float> out, double sigma, Rng& rng) {
  for (float& x : out) x = static_cast<float>(rng.normal() * sigma);
}

double fan(Index n, const std::string& what, const std::string& init) {
  if (n <= 0) throw ConfigError("initializer \"" + init + "\" needs a positive " + what + ", got " + std::to_string(n));
  return static_cast<double>(n);
}

}  // namespace

const std::vector<std::string>& initializer_names() {
  static const std::vector<std::string> names = {"xavier_uniform", "xavier_normal", "he_uniform",
                                                 "he_normal",      "normal",        "zeros"};
  return names;
}

void initialize(const InitSpec& spec, std::span<float> out, Rng& rng) {
  const std::string& name = spec.name;
  if (name == "zeros") {
    for (float& x : out) x = 0.0f;
  } else if (name == "ones") {
    for (float& x : out) x = 1.0f;
  } else if (name == "normal") {
    if (!(spec.std >= 0.0)) throw ConfigError("initializer \"normal\" needs std >= 0, got " + std::to_string(spec.std));
    fill_normal(out, spec.std, rng);
  } else if (name == "xavier_uniform") {
    const double fans = fan(spec.fan_in, "fan_in", name) + fan(spec.fan_out, "fan_out", name);
    fill_uniform(out, std::sqrt(6.0 / fans), rng);
  } else if (name == "xavier_normal") {
    const double fans = fan(spec.fan_in, "fan_in", name) + fan(spec.fan_out, "fan_out", name);
    fill_normal(out, std::sqrt(2.0 / fans), rng);
  } else if (name == "he_uniform") {
    fill_uniform(out, std::sqrt(6.0 / fan(spec.fan_in, "fan_in", name)), rng);
  } else if (name == "he_normal") {
    fill_normal(out, std::sqrt(2.0 / fan(spec.fan_in, "fan_in", name)), rng);
  } else {
    std::string msg = "unknown initializer \"" + name + "\"";
    const std::string hint = closest_match(name, initializer_names());
    if (!hint.empty()) msg += " (did you mean \"" + hint + "\"?)";
    throw ConfigError(fmt::format("{}; known: {}", msg, fmt::join(initializer_names(), ", ")));
  }
}

}  // namespace nettrain
