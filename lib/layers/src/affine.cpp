// Affine layer: y = x·W + b, x (batch, in), W (in, out), b (1, out). See affine.h.
#include "affine.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "gemm.h"
#include "nettrain/layers/network.h"

namespace nettrain {

namespace {
// OpenBLAS starts its own threads at load unless OPENBLAS_NUM_THREADS=1; they would only spin
// and sleep (the pool owns the cores, gemm.h). It reads the variable in its own constructor,
// which runs after this one (priority 101 runs before the default priority).
__attribute__((constructor(101))) void openblas_one_thread() { ::setenv("OPENBLAS_NUM_THREADS", "1", 1); }
}  // namespace

std::string blas_description() {
  std::string config = openblas_get_config();
  const std::string core = openblas_get_corename();
  if (config.find(core) == std::string::npos) config += " " + core;
  while (!config.empty() && config.back() == ' ') config.pop_back();
  return config;
}

std::unique_ptr<Layer> Affine::create(const ConfigNode& node) {
  check_layer_keys(node, {"units", "init", "std", "bias"});
  const Index units = node.get_positive_int("units");
  return std::make_unique<Affine>(units, WeightInit::read(node));
}

Shape Affine::build(const std::vector<Shape>& inputs) {
  require_inputs(inputs, 1);
  in_ = inputs[0].size();
  return Shape{out_};
}

std::vector<TensorSpec> Affine::parameters() const { return weight_and_bias({in_, out_}, out_, in_, out_); }

void Affine::forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) {
  keep_shards(ctx);
  ensure_size(y, x[0]->rows(), out_);
  // With sample shards every product is one shard's, so its shape (and OpenBLAS's choice of
  // kernel) is the same however the shards are spread over processes.
  if (shards_.empty()) {
    const gemm_detail::ForwardChunks product{*x[0], W_, init_.bias ? b_ : nullptr, relu_, in_,
                                             out_,  y};  // (batch, out)
    parallel_for_chunks(product.count, [&](Index c) { product.run(c); });
    return;
  }
  for (std::size_t s = 0; s + 1 < shards_.size(); ++s)
    gemm_detail::forward_rows(*x[0], shards_[s], shards_[s + 1] - shards_[s], W_, in_, out_, y);
  if (!init_.bias && !relu_) return;
  // In ranges of rows over the pool: elementwise, the same bits for any split.
  parallel_ranges(y.rows(), std::max<Index>(1, kElementwiseGrain / out_), [&](Index r0, Index r1) {
    gemm_detail::finish_forward_block(y.middleRows(r0, r1 - r0), init_.bias ? b_ : nullptr, relu_);
  });
}

void Affine::backward(std::span<const Matrix* const> x, const Matrix& /*y*/, const Matrix& dy,
                      std::span<Matrix* const> dx) {
  if (dx[0] != nullptr) ensure_size(*dx[0], dy.rows(), in_);
  if (!shards_.empty()) {
    shard_grads(*x[0], dy);
    if (dx[0] != nullptr)
      for (std::size_t s = 0; s + 1 < shards_.size(); ++s)
        gemm_detail::input_grad_rows(dy, shards_[s], shards_[s + 1] - shards_[s], W_, in_, out_, *dx[0]);
    return;
  }
  // dW's chunks, dx's chunks and db, claimed by the pool in that order in one fork-join: a layer
  // whose products are one chunk each (the 10 outputs of a classifier) still keeps both cores busy.
  const float beta = assign_grads_ ? 0.0f : 1.0f;
  const gemm_detail::WeightGradChunks weights{*x[0], dy, dW_, in_, out_, beta};  // (in, out)
  std::optional<gemm_detail::InputGradChunks> inputs;                            // (batch, in)
  if (dx[0] != nullptr) inputs.emplace(dy, W_, in_, out_, *dx[0]);
  const Index input_chunks = inputs ? inputs->count : 0;
  parallel_for_chunks(weights.count + input_chunks + (init_.bias ? 1 : 0), [&](Index c) {
    if (c < weights.count) {
      weights.run(c);
    } else if (c < weights.count + input_chunks) {
      inputs->run(c - weights.count);
    } else {
      if (assign_grads_) RowVectorMap(db_, out_).noalias() = dy.colwise().sum();
      else RowVectorMap(db_, out_).noalias() += dy.colwise().sum();
    }
  });
}

// Sample shards: each shard's dW and db, added in the shard tree.
void Affine::shard_grads(const Matrix& x, const Matrix& dy) {
  const auto k = static_cast<Index>(shards_.size()) - 1;
  ensure_size(dW_parts_, k, in_ * out_);
  for (Index s = 0; s < k; ++s)
    gemm_detail::weight_grad_rows(x, dy, shards_[s], shards_[s + 1] - shards_[s], dW_parts_.row(s).data(), in_, out_);
  add_shard_tree(dW_parts_, k, dW_, assign_grads_);
  if (!init_.bias) return;
  ensure_size(db_parts_, k, out_);
  for (Index s = 0; s < k; ++s)
    db_parts_.row(s).noalias() = dy.middleRows(shards_[s], shards_[s + 1] - shards_[s]).colwise().sum();
  add_shard_tree(db_parts_, k, db_, assign_grads_);
}

std::string Affine::describe() const { return "units=" + std::to_string(out_) + describe_init(); }

}  // namespace nettrain
