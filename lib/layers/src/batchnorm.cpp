// Batch normalisation per feature ([F]) or per channel ([C, H, W]); formulas in batchnorm.h.
// A channel's statistics add one float partial per row (S values) into a double: a channel may
// sum batch·H·W floats.
#include "batchnorm.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace nettrain {

std::unique_ptr<Layer> BatchNorm::create(const ConfigNode& node) {
  check_layer_keys(node, {"momentum", "epsilon"});
  const double momentum = node.get_number_or("momentum", 0.9);
  node.check_range("momentum", momentum, 0.0, 1.0);
  const double epsilon = node.get_number_or("epsilon", 1e-5);
  node.check_min_exclusive("epsilon", epsilon, 0.0);
  return std::make_unique<BatchNorm>(momentum, epsilon);
}

Shape BatchNorm::build(const std::vector<Shape>& inputs) {
  require_inputs(inputs, 1);
  const Shape& s = inputs[0];
  if (s.rank() == 1) {
    channels_ = s[0];
    spatial_ = 1;
  } else if (s.rank() == 3) {
    channels_ = s[0];
    spatial_ = s[1] * s[2];
  } else {
    throw ConfigError("expected an input of shape [features] or [channels, height, width], got " + s.str());
  }
  mean_.resize(channels_);
  inv_std_.resize(channels_);
  sums_.resize(static_cast<std::size_t>(2 * channels_));
  return s;
}

std::vector<TensorSpec> BatchNorm::parameters() const {
  return {{"weight", {channels_}, InitSpec{"ones", 0.0, channels_, channels_}},
          {"bias", {channels_}, InitSpec{"zeros", 0.0, channels_, channels_}}};
}

std::vector<TensorSpec> BatchNorm::buffers() const {
  return {{"running_mean", {channels_}, InitSpec{"zeros", 0.0, channels_, channels_}},
          {"running_var", {channels_}, InitSpec{"ones", 0.0, channels_, channels_}}};
}

void BatchNorm::bind(const std::vector<float*>& params, const std::vector<float*>& grads,
                     const std::vector<float*>& buffers) {
  gamma_ = params.at(0);
  beta_ = params.at(1);
  dgamma_ = grads.at(0);
  dbeta_ = grads.at(1);
  running_mean_ = buffers.at(0);
  running_var_ = buffers.at(1);
}

namespace {

// Σ over rows [r0, r1) (default: the batch) of f(one row's S values of the channel), in double.
template <typename F>
double sum_rows(const BatchNorm::ChannelRows& x, F f, Index r0 = 0, Index r1 = -1) {
  double s = 0.0;
  for (Index r = r0; r < (r1 < 0 ? x.rows : r1); ++r) s += static_cast<double>(f(x.row(r)));
  return s;
}

constexpr std::size_t kMaxShards = 64;  // training.batch_shards' limit

// The sum over sample shards: each shard's sum_rows, added in the shard tree.
template <typename F>
double shard_tree_sum(const BatchNorm::ChannelRows& x, const std::vector<Index>& shards, F f) {
  std::array<double, kMaxShards> part{};
  const auto k = static_cast<long>(shards.size()) - 1;
  for (long s = 0; s < k; ++s) {
    const auto i = static_cast<std::size_t>(s);
    part[i] = sum_rows(x, f, shards[i], shards[i + 1]);
  }
  tree_sum_rows(part.data(), k, 1);
  return part[0];
}

// Channels are independent: fixed channel ranges over the pool, none under ~32k values.
template <typename F>
void for_channels(Index channels, Index values_per_channel, F&& f) {
  parallel_ranges(channels, std::max<Index>(1, kElementwiseGrain / std::max<Index>(values_per_channel, 1)),
                  [&](Index c0, Index c1) {
                    for (Index c = c0; c < c1; ++c) f(c);
                  });
}

}  // namespace

void BatchNorm::forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) {
  ensure_size(y, x[0]->rows(), channels_ * spatial_);
  run_forward(*x[0], ctx, &y, nullptr);
}

void BatchNorm::forward_segments(const Matrix& x, const Context& ctx, const SegmentSink& sink) {
  run_forward(x, ctx, nullptr, &sink);
}

void BatchNorm::run_forward(const Matrix& in, const Context& ctx, Matrix* y, const SegmentSink* sink) {
  last_mode_ = ctx.mode;
  collective_ = ctx.collective;
  shards_.assign(ctx.shards.begin(), ctx.shards.end());
  total_rows_ = ctx.global_rows(in.rows());
  if (y == nullptr) size_segment_scratch(2);
  size_channel_scratch(in.rows());
  const double m = static_cast<double>(total_rows_ * spatial_);
  const bool train = ctx.mode == Mode::train;
  // Training: the statistics of the whole global batch, the mean first, then the variance
  // around it. One process runs a channel's three passes back to back, while the channel's
  // values are in cache; several processes sum each statistic over all of them in between.
  if (train && collective_ == nullptr) {
    for_channels(channels_, in.rows() * spatial_, [&](Index c) {
      const ChannelRows x = channel(in, c);
      channel_sum(x, c);
      channel_sum_around_mean(x, c, m);
      normalize(x, c, m, true, y, sink);
    });
    return;
  }
  if (train) {
    for_channels(channels_, in.rows() * spatial_, [&](Index c) { channel_sum(channel(in, c), c); });
    collective_->sum(std::span<double>(sums_.data(), channels_));
    for_channels(channels_, in.rows() * spatial_, [&](Index c) { channel_sum_around_mean(channel(in, c), c, m); });
    collective_->sum(std::span<double>(sums_.data() + channels_, channels_));
  }
  for_channels(channels_, in.rows() * spatial_, [&](Index c) { normalize(channel(in, c), c, m, train, y, sink); });
}

// Before the passes run (nothing allocates inside them): `slots` segments for each thread.
void BatchNorm::size_segment_scratch(Index slots) {
  segment_scratch_.resize(static_cast<std::size_t>(num_threads()));
  for (Vector& v : segment_scratch_)
    if (v.size() < slots * slot_stride()) v.resize(slots * slot_stride());
}

namespace {
Index lane(const float* p) { return static_cast<Index>(reinterpret_cast<std::uintptr_t>(p) / sizeof(float) % 16); }
}  // namespace

// The calling thread's scratch for row r of the channel's y or dy, in the given slot, at the
// alignment (mod 64 bytes) that segment has in x (y and dy are allocated as x is, or would be).
float* BatchNorm::scratch_segment(const ChannelRows& x, Index r, Index slot) const {
  return aligned_as(x, r, segment_scratch_[static_cast<std::size_t>(thread_slot())].data() + slot * slot_stride());
}

// The first float at or after `base` with the alignment (mod 64 bytes) of x's row r.
float* BatchNorm::aligned_as(const ChannelRows& x, Index r, float* base) const {
  return base + (lane(x.row(r).data()) - lane(base) + 16) % 16;
}

// Before the passes run, with set_x_source: room for a channel of `rows` rows on each thread.
void BatchNorm::size_channel_scratch(Index rows) {
  if (!x_source_) return;
  if (x_source_rows_() != rows)
    throw std::logic_error("BatchNorm: its input's source holds " + std::to_string(x_source_rows_()) + " rows, not " +
                           std::to_string(rows));
  channel_scratch_.resize(static_cast<std::size_t>(num_threads()));
  for (Vector& v : channel_scratch_)
    if (v.size() < rows * channel_ld() + 16) v.resize(rows * channel_ld() + 16);
}

// Channel c of the input: in the matrix, or (set_x_source) written by the source into the
// calling thread's scratch, each row at the alignment (mod 64 bytes) it has in a matrix of
// the output's shape (allocated at 64 bytes, as Eigen does in AVX-512 builds), so Eigen splits
// its sums the same way.
BatchNorm::ChannelRows BatchNorm::channel(const Matrix& in, Index c) const {
  const Index S = spatial_;
  if (!x_source_) return {in.data() + c * S, in.cols(), in.rows(), S};
  float* base = channel_scratch_[static_cast<std::size_t>(thread_slot())].data();
  base += (c * S % 16 - lane(base) + 16) % 16;
  x_source_(c, base, channel_ld());
  return {base, channel_ld(), in.rows(), S};
}

// Row r, channel c of dy: in the matrix, or written into the thread's scratch by the source.
Eigen::Map<const RowVector> BatchNorm::dy_segment(const ChannelRows& x, const DySegments& dy, Index r, Index c,
                                                  bool ready) const {
  if (dy.dy != nullptr) return {dy.dy->row(r).data() + c * spatial_, spatial_};
  float* out = scratch_segment(x, r, dy.per_row ? r : r % 2);
  if (!dy.reuse && !ready) (*dy.source)(r, c, out);
  return {out, spatial_};
}

// sums_[c] = Σ x over this process's rows of channel c.
void BatchNorm::channel_sum(const ChannelRows& x, Index c) {
  const auto sum = [](const auto& v) { return v.sum(); };
  sums_[static_cast<std::size_t>(c)] = shards_.empty() ? sum_rows(x, sum) : shard_tree_sum(x, shards_, sum);
}

// sums_[C + c] = Σ (x − μ_c)² over this process's rows, μ_c = sums_[c] / m (the global batch's).
void BatchNorm::channel_sum_around_mean(const ChannelRows& x, Index c, double m) {
  const auto mu = static_cast<float>(sums_[static_cast<std::size_t>(c)] / m);
  const auto sq = [mu](const auto& v) { return (v.array() - mu).square().sum(); };
  sums_[static_cast<std::size_t>(channels_ + c)] = shards_.empty() ? sum_rows(x, sq) : shard_tree_sum(x, shards_, sq);
}

// Channel c of y from the batch statistics in sums_ (training, updating the running ones) or
// from the running statistics: into y, or segment by segment to the sink.
void BatchNorm::normalize(const ChannelRows& x, Index c, double m, bool train, Matrix* y, const SegmentSink* sink) {
  const Index S = spatial_;
  double mean = 0.0, var = 0.0;
  if (train) {
    mean = sums_[static_cast<std::size_t>(c)] / m;
    var = sums_[static_cast<std::size_t>(channels_ + c)] / m;
    const double unbiased = m > 1.0 ? var * m / (m - 1.0) : var;
    running_mean_[c] = static_cast<float>(momentum_ * running_mean_[c] + (1.0 - momentum_) * mean);
    running_var_[c] = static_cast<float>(momentum_ * running_var_[c] + (1.0 - momentum_) * unbiased);
  } else {
    mean = running_mean_[c];
    var = running_var_[c];
  }
  const float inv_std = static_cast<float>(1.0 / std::sqrt(var + epsilon_));
  const auto mu = static_cast<float>(mean);
  mean_[c] = mu;
  inv_std_[c] = inv_std;
  // The sink gets a segment one row late, from the other of two slots: read right after it was
  // written, the sink's loads (at other offsets than the stores) waited for the stores to drain.
  const float* pending = nullptr;
  for (Index r = 0; r < x.rows; ++r) {
    float* out = y != nullptr ? y->row(r).data() + c * S : scratch_segment(x, r, r % 2);
    RowVectorMap(out, S).array() = gamma_[c] * xhat(x, r, c).array() + beta_[c];
    if (sink != nullptr && pending != nullptr) (*sink)(r - 1, c, pending);
    pending = out;
  }
  if (sink != nullptr && pending != nullptr) (*sink)(x.rows - 1, c, pending);
}

void BatchNorm::backward(std::span<const Matrix* const> x, const Matrix& /*y*/, const Matrix& dy,
                         std::span<Matrix* const> dx) {
  run_backward(*x[0], DySegments{&dy, nullptr}, dx[0]);
}

void BatchNorm::backward_segments(const Matrix& x, const SegmentSource& source, Matrix* dx) {
  // One process runs a channel's dx right after its sums (run_backward): each row's dy segment is
  // kept for dx from the sums' pass. Across processes the sums of every channel come first.
  const bool per_row = (dx != nullptr || dx_sink_) && (collective_ == nullptr || last_mode_ != Mode::train);
  size_segment_scratch(per_row ? std::max<Index>(x.rows(), 2) : 2);
  run_backward(x, DySegments{nullptr, &source, per_row, false}, dx);
}

void BatchNorm::run_backward(const Matrix& in, const DySegments& dy, Matrix* dx) {
  if (dx != nullptr) ensure_size(*dx, in.rows(), channels_ * spatial_);
  size_channel_scratch(in.rows());
  const bool train = last_mode_ == Mode::train;
  const bool wants_dx = dx != nullptr || dx_sink_;
  const Index values = in.rows() * spatial_;
  if (dx == nullptr && dx_sink_) {
    dx_scratch_.resize(static_cast<std::size_t>(num_threads()));
    for (Vector& v : dx_scratch_) v.resize(2 * slot_stride());
  }
  // Σ dy and Σ dy·x̂ per channel: this process's rows go into the gradients (summed across
  // processes with all the others), the whole batch's into dx. One process computes a
  // channel's dx right after its sums, while its dy and x are in cache.
  if (!wants_dx || collective_ == nullptr || !train) {
    DySegments again = dy;
    again.reuse = dy.per_row;
    for_channels(channels_, values, [&](Index c) {
      const ChannelRows x = channel(in, c);
      backward_sums(x, dy, c);
      if (wants_dx) backward_dx(x, again, dx, c, train);
    });
    return;
  }
  for_channels(channels_, values, [&](Index c) { backward_sums(channel(in, c), dy, c); });
  collective_->sum(std::span<double>(sums_.data(), 2 * channels_));
  for_channels(channels_, values, [&](Index c) { backward_dx(channel(in, c), dy, dx, c, train); });
}

// Channel c's Σ dy and Σ dy·x̂: added into dgamma and dbeta (this process's rows), and kept in
// sums_ for dx.
void BatchNorm::backward_sums(const ChannelRows& x, const DySegments& dy, Index c) {
  if (!shards_.empty()) return backward_shard_sums(x, dy, c);
  double sum_dy = 0.0, dot = 0.0;
  add_row_sums(x, dy, c, 0, x.rows, sum_dy, dot);
  dgamma_[c] += static_cast<float>(dot);
  dbeta_[c] += static_cast<float>(sum_dy);
  sums_[static_cast<std::size_t>(c)] = sum_dy;
  sums_[static_cast<std::size_t>(channels_ + c)] = dot;
}

// Channel c of dx, through the batch statistics in training (sums_ over the global batch): into
// dx, or without dx segment by segment to dx_sink_.
void BatchNorm::backward_dx(const ChannelRows& x, const DySegments& dy, Matrix* dx, Index c, bool train) const {
  const Index S = spatial_;
  const float m = static_cast<float>(total_rows_ * S);
  const auto sum_dy = static_cast<float>(sums_[static_cast<std::size_t>(c)]);
  const auto sum_dy_xhat = static_cast<float>(sums_[static_cast<std::size_t>(channels_ + c)]);
  const float k = gamma_[c] * inv_std_[c];
  // Without dx: to the sink one row late, from two slots in turn at the alignment the segment
  // would have in dx (see normalize).
  float* own = dx == nullptr ? dx_scratch_[static_cast<std::size_t>(thread_slot())].data() : nullptr;
  const float* pending = nullptr;
  for (Index r = 0; r < x.rows; ++r) {
    float* out = dx != nullptr ? dx->row(r).data() + c * S : aligned_as(x, r, own + r % 2 * slot_stride());
    RowVectorMap d(out, S);
    const auto g = dy_segment(x, dy, r, c);
    if (train) d.array() = (k / m) * (m * g.array() - sum_dy - xhat(x, r, c).array() * sum_dy_xhat);
    else d = k * g;
    if (dx == nullptr && pending != nullptr) dx_sink_(r - 1, c, pending);
    pending = out;
  }
  if (dx == nullptr && pending != nullptr) dx_sink_(x.rows - 1, c, pending);
}

// Σ dy and Σ dy·x̂ of channel c over rows [r0, r1), added into sum_dy and dot one row's float
// sum at a time: both sums of a row while its dy is in L1.
void BatchNorm::add_row_sums(const ChannelRows& x, const DySegments& dy, Index c, Index r0, Index r1, double& sum_dy,
                             double& dot) const {
  // From the source, each row's segment is written one row ahead (into its own slot, or the
  // other of two), so the sums do not read stores that have not drained yet.
  const bool ahead = dy.source != nullptr && !dy.reuse;
  if (ahead && r0 < r1) dy_segment(x, dy, r0, c);
  for (Index r = r0; r < r1; ++r) {
    if (ahead && r + 1 < r1) dy_segment(x, dy, r + 1, c);
    const auto g = dy_segment(x, dy, r, c, ahead);
    sum_dy += static_cast<double>(g.sum());
    dot += static_cast<double>(g.dot(xhat(x, r, c)));
  }
}

// With sample shards: Σ dy and Σ dy·x̂ of channel c per shard; the gradients add the shards'
// float sums in the shard tree (as the processes add theirs), dx's sums the double ones.
void BatchNorm::backward_shard_sums(const ChannelRows& x, const DySegments& dy, Index c) {
  const auto k = static_cast<long>(shards_.size()) - 1;
  std::array<double, kMaxShards> sum_dy{}, dot{};
  std::array<float, kMaxShards> sum_dy_f{}, dot_f{};
  for (long s = 0; s < k; ++s) {
    const auto i = static_cast<std::size_t>(s);
    add_row_sums(x, dy, c, shards_[i], shards_[i + 1], sum_dy[i], dot[i]);
    sum_dy_f[i] = static_cast<float>(sum_dy[i]);
    dot_f[i] = static_cast<float>(dot[i]);
  }
  tree_sum_rows(sum_dy.data(), k, 1);
  tree_sum_rows(dot.data(), k, 1);
  tree_sum_rows(sum_dy_f.data(), k, 1);
  tree_sum_rows(dot_f.data(), k, 1);
  dgamma_[c] += dot_f[0];
  dbeta_[c] += sum_dy_f[0];
  sums_[static_cast<std::size_t>(c)] = sum_dy[0];
  sums_[static_cast<std::size_t>(channels_ + c)] = dot[0];
}

std::string BatchNorm::describe() const { return fmt::format("momentum={:g} epsilon={:g}", momentum_, epsilon_); }

}  // namespace nettrain
