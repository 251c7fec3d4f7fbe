// Small helpers shared by the layers: key checks with the keys every layer accepts, input-count
// and shape checks at build time, and a base for one-input layers whose output shape is the
// input shape (activations, dropout, elementwise math).
#pragma once

#include <string>
#include <vector>

#include "nettrain/core/config_node.h"
#include "nettrain/core/errors.h"
#include "nettrain/layers/layer.h"
#include "nettrain/core/parallel.h"

namespace nettrain {

// check_keys with "type", "name" and "inputs" (read by the network) added to `own`.
void check_layer_keys(const ConfigNode& node, const std::vector<std::string>& own);

// Throws ConfigError unless exactly `n` input shapes are given.
void require_inputs(const std::vector<Shape>& inputs, std::size_t n);

// The "init", "std" and "bias" keys of a weight layer (affine, conv2d): init is one of
// initializer_names() (default xavier_uniform); "std" only with "normal" (default 0.01); bias
// default true. `user_init` says whether the config named an init.
struct WeightInit {
  std::string init = "xavier_uniform";
  bool user_init = false;
  double std = 0.01;
  bool bias = true;
  static WeightInit read(const ConfigNode& node);
};

// A layer with a weight tensor and an optional bias (affine, conv2d): their specs, binding,
// default init and description, written once. W_ and dW_ are the weight and its gradient; b_
// and db_ the bias and its gradient (null without a bias).
class WeightedLayer : public Layer {
 public:
  bool replicable() const override { return true; }
  explicit WeightedLayer(WeightInit init) : init_(std::move(init)) {}
  void bind(const std::vector<float*>& params, const std::vector<float*>& grads,
            const std::vector<float*>& buffers) override;
  // he_normal before a rectifier, else xavier_uniform, unless the config named an init.
  void set_default_init(bool rectifier_follows) override;

 protected:
  // "weight" of `shape` initialised with the fans, then "bias" of `bias_size` zeros (if any).
  std::vector<TensorSpec> weight_and_bias(std::vector<Index> shape, Index bias_size, Index fan_in, Index fan_out) const;
  // " init=NAME" (and " std=S" for normal, " bias=false" without a bias), for describe().
  std::string describe_init() const;

  // Sample shards of the last forward (Context::shards), for backward.
  void keep_shards(const Context& ctx) { shards_.assign(ctx.shards.begin(), ctx.shards.end()); }
  // f(first, end) for each sample shard of a batch of N in order, or once for the whole batch
  // when there are no shards.
  template <class F>
  void for_each_shard(Index N, F&& f) const {
    if (shards_.empty()) {
      f(Index{0}, N);
      return;
    }
    for (std::size_t s = 0; s + 1 < shards_.size(); ++s) f(shards_[s], shards_[s + 1]);
  }

  WeightInit init_;
  std::vector<Index> shards_;
  float* W_ = nullptr;
  float* b_ = nullptr;
  float* dW_ = nullptr;
  float* db_ = nullptr;
};

// Resizes `m` to (rows, cols) only when it differs: buffers are sized once per batch size.
inline void ensure_size(Matrix& m, Index rows, Index cols) {
  if (m.rows() != rows || m.cols() != cols) m.resize(rows, cols);
}

// g[j] += the k rows of parts (k, n) added in the shard tree (tree_sum_rows), in fixed column
// ranges over the pool (each element's additions are the same whatever the split); with assign,
// g[j] = that sum. parts is overwritten.
inline void add_shard_tree(Matrix& parts, Index k, float* g, bool assign = false) {
  const Index n = parts.cols();
  parallel_ranges(n, Index{1} << 14, [&](Index c0, Index c1) {
    for (Index step = 1; step < k; step *= 2)
      for (Index i = 0; i + step < k; i += 2 * step)
        parts.row(i).segment(c0, c1 - c0) += parts.row(i + step).segment(c0, c1 - c0);
    if (assign) {
      std::copy(&parts(0, c0), &parts(0, c0) + (c1 - c0), g + c0);
    } else {
      for (Index j = c0; j < c1; ++j) g[j] += parts(0, j);
    }
  });
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
  bool replicable() const override { return true; }
  Shape build(const std::vector<Shape>& inputs) override {
    require_inputs(inputs, 1);
    shape_ = inputs[0];
    return shape_;
  }

 protected:
  Shape shape_;
};

}  // namespace nettrain
