// Small helpers shared by the layers: key checks with the keys every layer accepts, input-count
// and shape checks at build time, and a base for one-input layers whose output shape is the
// input shape (activations, dropout, elementwise math).
#pragma once

#include <string>
#include <vector>

#include "nettrain/config_node.h"
#include "nettrain/errors.h"
#include "nettrain/layer.h"
#include "nettrain/parallel.h"

namespace nettrain {

// check_keys with "type", "name" and "inputs" (read by the network) added to `own`.
void check_layer_keys(const ConfigNode& node, const std::vector<std::string>& own);

// Throws ConfigError unless exactly `n` input shapes are given.
void require_inputs(const std::vector<Shape>& inputs, std::size_t n);

// The "init" and "std" keys of a weight layer (affine, conv2d): init is one of xavier_uniform,
// xavier_normal, he_uniform, he_normal, normal, zeros (default xavier_uniform); "std" only with
// "normal" (default 0.01). `user_init` says whether the config named an init.
struct WeightInit {
  std::string init = "xavier_uniform";
  bool user_init = false;
  double std = 0.01;
  static WeightInit read(const ConfigNode& node);
  // The default for the layer that follows: he_normal before relu/leaky_relu, else xavier_uniform.
  void set_default(const std::string& next_type);
};

// Resizes `m` to (rows, cols) only when it differs: buffers are sized once per batch size.
inline void ensure_size(Matrix& m, Index rows, Index cols) {
  if (m.rows() != rows || m.cols() != cols) m.resize(rows, cols);
}

// Calls f(begin, end) over fixed ranges of [0, n) spread over the pool (parallel.h): for
// elementwise passes over a batch's flat storage, whose bits do not depend on the split.
constexpr Index kElementwiseGrain = Index{1} << 15;
template <typename F>
void for_flat_ranges(Index n, F&& f) {
  parallel_ranges(n, kElementwiseGrain, f);
}

// A one-input layer whose output has the input's shape.
class ShapePreservingLayer : public Layer {
 public:
  Shape build(const std::vector<Shape>& inputs) override {
    require_inputs(inputs, 1);
    shape_ = inputs[0];
    return shape_;
  }

 protected:
  Shape shape_;
};

}  // namespace nettrain
