// Inverted dropout: train y = x ⊙ mask (mask 0 or 1/(1 − rate)), eval y = x. See dropout.h.
#include "dropout.h"

#include <stdexcept>

#include <fmt/format.h>

namespace nettrain {

std::unique_ptr<Layer> Dropout::create(const ConfigNode& node) {
  check_layer_keys(node, {"rate"});
  const double rate = node.get_number_or("rate", 0.5);
  if (!(rate >= 0.0 && rate < 1.0)) {
    node.fail("rate", fmt::format("expected a number in [0, 1), got {:g}", rate));
  }
  return std::make_unique<Dropout>(static_cast<float>(rate));
}

void Dropout::forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) {
  last_mode_ = ctx.mode;
  const Matrix& in = *x[0];
  if (ctx.mode == Mode::eval) {
    y = in;
    return;
  }
  if (ctx.rng == nullptr) throw std::logic_error("dropout: train-mode forward needs ctx.rng");
  ensure_size(mask_, in.rows(), in.cols());
  ensure_size(y, in.rows(), in.cols());
  const float keep_scale = 1.0f / (1.0f - rate_), rate = rate_;
  // One draw names this batch's mask; element i of the global batch (row-major) is kept when
  // uniform_at(key, i) >= rate. Every process and every range of the pool computes its own
  // elements and gets the bits one serial pass over the whole batch would.
  const std::uint64_t key = ctx.rng->next_u64();
  const auto first = static_cast<std::uint64_t>(ctx.first_row * in.cols());
  float* m = mask_.data();
  float* out = y.data();
  const float* x0 = in.data();
  parallel_ranges(mask_.size(), kElementwiseGrain, [m, out, x0, key, first, rate, keep_scale](Index begin, Index end) {
    // Locals the compiler knows the stores cannot change: the loop vectorises (64-bit lanes).
    float* __restrict mask = m;
    float* __restrict dst = out;
    const float* __restrict src = x0;
    for (Index i = begin; i < end; ++i) {
      const float k = Rng::uniform_at(key, first + static_cast<std::uint64_t>(i)) >= rate ? keep_scale : 0.0f;
      mask[i] = k;
      dst[i] = src[i] * k;
    }
  });
}

void Dropout::backward(std::span<const Matrix* const> /*x*/, const Matrix& /*y*/, const Matrix& dy,
                       std::span<Matrix* const> dx) {
  if (dx[0] == nullptr) return;
  if (last_mode_ == Mode::eval) {
    *dx[0] = dy;
    return;
  }
  ensure_size(*dx[0], dy.rows(), dy.cols());
  dx[0]->array() = dy.array() * mask_.array();
}

std::string Dropout::describe() const { return fmt::format("rate={:g}", rate_); }

}  // namespace nettrain
