// Data augmentation of image batches (the config's data.augment): random shifts (zero padding
// and a random crop, i.e. a translation by up to `shift` pixels on each axis, uncovered pixels
// set to 0) and random horizontal flips, applied to training batches after preprocessing.
//
// The draws of a sample depend on the run's seed, the global step and the sample's position in
// the batch alone (a counter-based stream, not a running one): a resumed run draws the same
// shifts as an unbroken one, and the result is the same bits for any thread count.
#pragma once

#include <cstdint>

#include "nettrain/core/config_node.h"
#include "nettrain/core/tensor.h"

namespace nettrain {

struct AugmentSpec {
  std::int64_t shift = 0;  // pixels, 0 = no shift
  bool flip = false;       // horizontal flip with probability 1/2
  bool enabled() const { return shift > 0 || flip; }
};

// Reads {"shift": n, "flip": b}; throws ConfigError naming the key for anything else.
AugmentSpec parse_augment(const ConfigNode& node);

class Augmenter {
 public:
  // Samples are rows of `channels` planes of height x width floats (CHW order).
  Augmenter(AugmentSpec spec, Index channels, Index height, Index width, std::uint64_t seed);

  // Transforms every row of x in place; row i is the sample at position first + i of the batch of
  // global step `step`.
  void apply(Matrix& x, std::uint64_t step, Index first = 0) const;

 private:
  void apply_row(float* row, float* scratch, std::uint64_t step, Index position) const;
  AugmentSpec spec_;
  Index channels_, height_, width_;
  std::uint64_t seed_;
};

}  // namespace nettrain
