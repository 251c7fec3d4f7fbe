// Helpers shared by the optimizers and schedules of lib/train: range-checked reads of their
// settings (the messages name the file and JSON pointer, via ConfigNode) and the state-size check
// every optimizer makes before it touches its parallel vectors.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "nettrain/core/config_node.h"
#include "nettrain/core/parallel.h"
#include "nettrain/core/tensor.h"

namespace nettrain::train_detail {

// Optimizer::step runs in fixed ranges of this many parameters spread over the pool (parallel.h);
// every element is computed alone, so the bits do not depend on the split.
constexpr Index kElementGrain = Index{1} << 16;
// The trainer's update pass and its sum of the shards' gradients: one run per thread, none under
// this many parameters (a fork-join costs a few microseconds; W1's 39,760 parameters take 2 runs).
constexpr Index kSplitGrain = Index{1} << 14;

// A number > 0 (learning rates, eps, gamma).
inline double read_positive(const ConfigNode& c, const std::string& key, double fallback) {
  const double v = c.get_number_or(key, fallback);
  c.check_min_exclusive(key, v, 0.0);
  return v;
}

// A number >= 0 (weight decay, min_lr, threshold).
inline double read_non_negative(const ConfigNode& c, const std::string& key, double fallback) {
  const double v = c.get_number_or(key, fallback);
  if (!(v >= 0.0)) {
    c.fail(key, fmt::format("expected a number >= 0, got {:g}", v));
  }
  return v;
}

// A number in [0, 1) (momentum, betas, rho): 1 would never forget, which diverges or stalls.
inline double read_unit_interval(const ConfigNode& c, const std::string& key, double fallback) {
  const double v = c.get_number_or(key, fallback);
  if (!(v >= 0.0 && v < 1.0)) {
    c.fail(key, fmt::format("expected a number in [0, 1), got {:g}", v));
  }
  return v;
}

// Throws std::logic_error when the caller skipped reset(n) or passes vectors of another length:
// a programming error of the trainer, not a user error.
inline void check_sizes(const std::string& type, Index state_size, Index params, Index grads) {
  if (state_size != params || grads != params)
    throw std::logic_error(type + ": step() with " + std::to_string(params) + " parameters and " +
                           std::to_string(grads) + " gradients, but reset() sized the state for " +
                           std::to_string(state_size));
}

}  // namespace nettrain::train_detail
