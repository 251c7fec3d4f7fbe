// Gradient check of a whole network on real samples: backprop gradients against central
// differences (L(p + h) - L(p - h)) / 2h, per parameter tensor.
//
// The error of a tensor is the relative norm ‖g_backprop − g_numeric‖ / (‖g_backprop‖ +
// ‖g_numeric‖) over the entries checked (all of them, or `max_entries` chosen at random). A
// relative norm rather than a per-entry maximum because the network runs in float32: an entry
// whose gradient is near zero has a numeric estimate made of rounding noise, while the norm
// weighs entries by how much they matter. Stochastic layers draw the same mask for every
// evaluation (the network's Rng is restored before each forward).
#pragma once

#include <string>
#include <vector>

#include "nettrain/train/loss.h"
#include "nettrain/layers/network.h"

namespace nettrain {

struct TensorCheck {
  std::string name;
  Index entries = 0;   // entries checked
  double error = 0;    // relative norm error
  double max_abs = 0;  // largest |g_backprop − g_numeric| among them
};

std::vector<TensorCheck> gradient_check(Network& net, Loss& loss, const Matrix& x, const Targets& t,
                                        Index max_entries, double h, std::uint64_t seed);

}  // namespace nettrain
