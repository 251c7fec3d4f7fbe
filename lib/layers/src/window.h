// Sliding-window geometry shared by conv2d and the pooling layers: the kernel/stride/padding
// keys and the output size they give on a [C, H, W] input.
//
//   kernel   int k or [kh, kw]
//   stride   int s or [sh, sw]                         (positive)
//   padding  "valid" (none) | "same" | int p | [ph, pw]  (zeros on both sides)
//   out = floor((in + pad_before + pad_after − k) / s) + 1
// "same" follows TensorFlow: out = ceil(in / s), pad_total = max((out − 1)·s + k − in, 0),
// pad_before = pad_total / 2 and the rest after (for stride 1: (k − 1)/2 before).
#pragma once

#include <string>
#include <vector>

#include "nettrain/core/config_node.h"
#include "nettrain/core/tensor.h"

namespace nettrain {

struct Window {
  Index kh = 1, kw = 1;  // kernel
  Index sh = 1, sw = 1;  // stride
  enum class Pad { valid, same, explicit_ } pad = Pad::valid;
  Index ph = 0, pw = 0;  // explicit padding, each side

  // Resolved by resolve() for one input shape.
  Index C = 0, H = 0, W = 0;  // input
  Index OH = 0, OW = 0;       // output
  Index top = 0, left = 0;    // padding before; after is implied by OH, OW

  // Reads "kernel" (default `kernel` when > 0, else required), "stride" (default: the kernel
  // when `stride_default_kernel`, else 1) and "padding" (`allow_same`: "same" accepted).
  static Window read(const ConfigNode& node, Index kernel, bool stride_default_kernel, bool allow_same);

  // Checks a rank-3 input and sets C, H, W, OH, OW, top, left. Throws ConfigError with the numbers.
  void resolve(const Shape& input);

  // [lo, hi): the output columns ow whose input column ow·sw − left + j lies inside [0, W).
  void valid_range_w(Index j, Index& lo, Index& hi) const;
  void valid_range_h(Index i, Index& lo, Index& hi) const;

  // "kernel=5x5 stride=1 padding=valid" (a square pair prints as one number).
  std::string describe() const;
  // {"kernel": [kh, kw], "stride": [sh, sw], "pad_before": [top, left]} (after resolve()).
  nlohmann::json settings() const;
};

// "[channels, height, width]" check shared by the spatial layers.
void require_chw(const Shape& s);

}  // namespace nettrain
