// Batch normalisation; output shape = input shape.
//
//   input [F] (rank 1): normalise each feature over the batch (C = F, S = 1)
//   input [C, H, W]:    normalise each channel over batch × H × W (S = H·W; a row holds C blocks of S)
//   x, y, xhat, dy, dx: (batch, C·S)   gamma ("weight"), beta ("bias"), running_mean, running_var: (C)
//
//   train: μ, σ² = mean and biased variance of the channel over m = batch·S values
//          xhat = (x − μ)/√(σ² + ε),  y = γ·xhat + β
//          running_mean = momentum·running_mean + (1 − momentum)·μ
//          running_var  = momentum·running_var  + (1 − momentum)·σ²·m/(m − 1)   (unbiased, as PyTorch)
//          dx = γ/(m·√(σ² + ε)) · (m·dy − Σdy − xhat·Σ(dy ⊙ xhat))   (through the batch statistics)
//   eval:  xhat = (x − running_mean)/√(running_var + ε), y = γ·xhat + β, dx = γ·dy/√(running_var + ε)
//   both:  dγ += Σ dy ⊙ xhat,  dβ += Σ dy   (sums over batch × S)
//
// Config: "momentum" in [0, 1] (default 0.9, Keras convention), "epsilon" > 0 (default 1e-5).
#pragma once

#include <functional>
#include <memory>

#include "layer_util.h"

namespace nettrain {

class BatchNorm : public Layer {
 public:
  BatchNorm(double momentum, double epsilon) : momentum_(momentum), epsilon_(epsilon) {}
  static std::unique_ptr<Layer> create(const ConfigNode& node);

  std::string type() const override { return "batchnorm"; }
  Shape build(const std::vector<Shape>& inputs) override;
  std::vector<TensorSpec> parameters() const override;
  std::vector<TensorSpec> buffers() const override;
  void bind(const std::vector<float*>& params, const std::vector<float*>& grads,
            const std::vector<float*>& buffers) override;
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
  std::string describe() const override;
  nlohmann::json settings() const override { return {{"momentum", momentum_}, {"epsilon", epsilon_}}; }

  // Taken in by the layer that reads it (Layer::fuse_batchnorm_input), which then runs these
  // instead of forward and backward: the same computation, one (row, channel) segment of S values
  // at a time, with neither y nor dy ever batch-sized. forward_segments hands each segment of y to
  // `sink`; backward_segments has `source` write each segment of dy where it points. A segment
  // lies in the calling thread's scratch at the alignment it would have in y or dy, so Eigen
  // splits its sums the same way: the same bits as forward and backward.
  using SegmentSink = std::function<void(Index r, Index c, const float* y)>;
  using SegmentSource = std::function<void(Index r, Index c, float* dy)>;
  void forward_segments(const Matrix& x, const Context& ctx, const SegmentSink& sink);
  void backward_segments(const Matrix& x, const SegmentSource& source, Matrix* dx);

  // The layer before it may take its input gradient segment by segment instead of as a matrix
  // (Layer::fuse_batchnorm_output): when backward is given no dx, each (row, channel) segment of
  // dx goes to `sink` from the calling thread's scratch, as backward would have written it.
  void set_dx_sink(SegmentSink sink) { dx_sink_ = std::move(sink); }

  // The layer before it may hand it its input channel by channel instead of as a matrix
  // (Layer::fuse_batchnorm_output): `source` writes channel c of each of the `rows()` rows of the
  // batch, row r's S values at out + r·ld. Forward and backward are then given a matrix of the
  // batch's rows and no columns (they check that rows() agrees), and ask the source for each
  // channel as their passes reach it: once in forward and once in backward in one process;
  // across processes once per pass (three in forward, two in backward).
  using ChannelSource = std::function<void(Index c, float* out, Index ld)>;
  void set_x_source(ChannelSource source, std::function<Index()> rows) {
    x_source_ = std::move(source);
    x_source_rows_ = std::move(rows);
  }

  // One channel of the input: row r's S values at first + r·ld.
  struct ChannelRows {
    const float* first;
    Index ld, rows, S;
    Eigen::Map<const RowVector> row(Index r) const { return {first + r * ld, S}; }
  };

 private:
  double momentum_;
  double epsilon_;
  Index channels_ = 0;  // C
  Index spatial_ = 1;   // S
  Mode last_mode_ = Mode::train;
  float* gamma_ = nullptr;  // (C)
  float* beta_ = nullptr;   // (C)
  float* dgamma_ = nullptr;
  float* dbeta_ = nullptr;
  float* running_mean_ = nullptr;  // (C)
  float* running_var_ = nullptr;   // (C)
  // The last forward's μ and 1/√(σ² + ε) per channel: backward recomputes x̂ = (x − μ)/√(σ² + ε)
  // from the input, bit for bit, instead of keeping a batch-sized copy.
  Vector mean_;     // (C)
  Vector inv_std_;  // (C)
  // Data parallel: the batch's rows on all processes and the sums across them (Context).
  Collective* collective_ = nullptr;
  Index total_rows_ = 0;
  std::vector<double> sums_;   // (2·C): per-channel sums of this batch, summed across processes
  std::vector<Index> shards_;  // sample shards of the last forward (Context::shards)
  // Per pool thread, room for `slots` segments at any alignment, slot_stride() floats apart
  // (forward_segments: two, used in turn; backward_segments: one per row, or two used in turn,
  // see DySegments).
  mutable std::vector<Vector> segment_scratch_;
  SegmentSink dx_sink_;     // set_dx_sink
  ChannelSource x_source_;  // set_x_source
  std::function<Index()> x_source_rows_;
  mutable std::vector<Vector> channel_scratch_;  // per pool thread: one channel of the batch, from x_source_
  // Floats from one row of a channel to the next in channel_scratch_: S, and up to 15 more so
  // that each row has the alignment it would have in a matrix of C·S columns.
  Index channel_ld() const { return spatial_ + (channels_ - 1) * spatial_ % 16; }
  void size_channel_scratch(Index rows);
  ChannelRows channel(const Matrix& in, Index c) const;
  mutable std::vector<Vector> dx_scratch_;  // per pool thread: two dx segments for dx_sink_, used in turn
  Index slot_stride() const { return (spatial_ + 15 + 15) / 16 * 16; }  // S + 15, in whole 64-byte lines

  // Where the passes find dy: the matrix, or `source` (backward_segments). With per_row, a row's
  // segment goes to its own slot of the thread's scratch, where the next pass over the same
  // channel finds it again (reuse) instead of asking the source a second time; without, row r's
  // goes to slot r % 2 (the sums' pass asks for a row one ahead).
  struct DySegments {
    const Matrix* dy = nullptr;
    const SegmentSource* source = nullptr;
    bool per_row = false;
    bool reuse = false;
  };
  void run_forward(const Matrix& in, const Context& ctx, Matrix* y, const SegmentSink* sink);
  void run_backward(const Matrix& in, const DySegments& dy, Matrix* dx);
  void size_segment_scratch(Index slots);
  float* scratch_segment(const ChannelRows& x, Index r, Index slot = 0) const;
  float* aligned_as(const ChannelRows& x, Index r, float* base) const;
  // With `ready`, a segment the source has already written (add_row_sums' look-ahead).
  Eigen::Map<const RowVector> dy_segment(const ChannelRows& x, const DySegments& dy, Index r, Index c,
                                         bool ready = false) const;
  // The passes over one channel c, x its input (forward, then backward).
  void channel_sum(const ChannelRows& x, Index c);
  void channel_sum_around_mean(const ChannelRows& x, Index c, double m);
  void normalize(const ChannelRows& x, Index c, double m, bool train, Matrix* y, const SegmentSink* sink);
  void backward_sums(const ChannelRows& x, const DySegments& dy, Index c);
  void backward_dx(const ChannelRows& x, const DySegments& dy, Matrix* dx, Index c, bool train) const;
  void backward_shard_sums(const ChannelRows& x, const DySegments& dy, Index c);
  void add_row_sums(const ChannelRows& x, const DySegments& dy, Index c, Index r0, Index r1, double& sum_dy,
                    double& dot) const;
  // x̂ of row r of channel c of the last forward's input, as an expression: (S) values.
  auto xhat(const ChannelRows& x, Index r, Index c) const {
    return ((x.row(r).array() - mean_[c]) * inv_std_[c]).matrix();
  }
};

}  // namespace nettrain
