// Initializers fill a parameter tensor at network creation: xavier_uniform, xavier_normal,
// he_uniform, he_normal, normal (std), zeros, ones. All draw from the project's Rng, so one seed
// gives the same weights on every build.
//
//   xavier_uniform  U(-a, a), a = sqrt(6 / (fan_in + fan_out))
//   xavier_normal   N(0, 2 / (fan_in + fan_out))
//   he_uniform      U(-a, a), a = sqrt(6 / fan_in)
//   he_normal       N(0, 2 / fan_in)
//   normal          N(0, std²)
#pragma once

#include <span>
#include <string>
#include <vector>

#include "nettrain/core/rng.h"
#include "nettrain/core/tensor.h"

namespace nettrain {

// How a tensor is filled when a network is created (the names: initializer_names()).
struct InitSpec {
  std::string name = "zeros";  // "he_normal", "xavier_uniform", "zeros", "ones", "normal", ...
  double std = 0.01;           // for "normal"
  Index fan_in = 1;
  Index fan_out = 1;
};

const std::vector<std::string>& initializer_names();  // the user-facing ones, for config checks
// Fills `out` per `spec`. Throws ConfigError for an unknown name.
void initialize(const InitSpec& spec, std::span<float> out, Rng& rng);

}  // namespace nettrain
