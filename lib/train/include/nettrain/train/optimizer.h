// Optimizers update the network's one flat parameter vector from its one flat gradient vector.
// Their state (velocity, moments, step count) is a set of vectors parallel to the parameters,
// which a checkpoint writes and reads back exactly.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nettrain/core/tensor.h"

namespace nettrain {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string type() const = 0;
  // The configured "lr" (or its default): the base rate a Schedule starts from
  // (ScheduleInfo::base_lr). step() itself always uses the rate it is given.
  virtual double base_lr() const = 0;

  // Sizes the state for n parameters (zeroed). Called once before the first step.
  virtual void reset(Index n) = 0;
  // One update with learning rate lr: params -= f(grads, state). grads is not modified.
  // begin_step(), then update() on fixed ranges spread over the pool.
  void step(VectorMap params, ConstVectorMap grads, float lr);

  // step() in two halves, for a caller that walks the vectors in its own ranges (the trainer
  // checks and clears the gradient in the same pass). begin_step counts the step and fixes its
  // constants for n parameters (checked against the state); update applies the step to elements
  // [begin, end). Every element is computed alone, so any split gives the same bits.
  virtual void begin_step(Index n, float lr) = 0;
  virtual void update(float* params, const float* grads, Index begin, Index end) = 0;

  // State vectors by name ("velocity", "m", "v"), each of the parameters' length, and the number
  // of steps taken. set_state takes exactly what state() gave.
  virtual std::vector<std::pair<std::string, Vector*>> state() = 0;
  std::int64_t steps() const { return t_; }
  void set_steps(std::int64_t t) { t_ = t; }

 protected:
  std::int64_t t_ = 0;
};

}  // namespace nettrain
