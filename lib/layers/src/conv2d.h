// 2-D convolution (cross-correlation, as Caffe and PyTorch) by im2col and GEMM, or for 3x3
// stride-1 layers with at least 16 channels in and out by Winograd's F(2x2, 3x3) (winograd.h),
// or with at most 3 channels in directly.
//
//   x: (batch, C·H·W)   y: (batch, F·OH·OW)   both channel-major within a row ([C, H, W], [F, OH, OW])
//   W ("weight"): saved {F, C, kh, kw} (PyTorch's layout), used as the matrix Wm (F, K), K = C·kh·kw
//   b ("bias"):   (F)
//   col: (K, batch·P), P = OH·OW: column n·P + p holds the K input values under output position p
//        of sample n (zeros where the window covers padding), row k = (c·kh + i)·kw + j
//   forward:  Y = Wm·col (F, batch·P);  y[n, f·P + p] = Y[f, n·P + p] + b[f]
//   backward: dY[f, n·P + p] = dy[n, f·P + p]
//             dW += (col·dYᵀ)ᵀ   db += row sums of dY   dcol = Wmᵀ·dY  then dx = col2im(dcol) (assigned)
// Forward runs one product per sample, straight into y, from that sample's columns; backward's
// products run over chunks of samples so the blocks of col, dY and dcol stay in cache (col is
// built again in backward, never kept for the whole batch). dW's product takes dY
// transposed, (batch·P, F), so neither operand is: LIBXSMM's kernel ran
// fashion-cnn's conv2 chunk (K 288, F 64, 1960 columns) in 321 µs against OpenBLAS's 492 for
// dY·colᵀ (one thread). The chunks run on the pool's threads (parallel.h), each with its own
// scratch; in backward each chunk writes its own dW and db part, and the parts are added in
// chunk order, so the bits depend on the batch size only, never on the thread count.
// Winograd layers run the same way: forward two samples at a time (pairs from each shard's first
// sample), and in backward's chunks, sample by sample, the chunk's part of the transformed weight
// gradient, and dx (the convolution of dy by the flipped filters) two samples at a time; the
// weight gradient's parts are transformed back into dW once the parts are added (per shard with sample shards,
// before the shards' tree, so that any process count gives the same bits).
// 3x3 stride-1 layers with at most 3 channels in (a CNN's first layer; AVX-512 builds) run
// directly: each output plane from the zero-padded input planes, 9·C multiply-adds per value,
// and dW, db per (sample, filter) from dy and those planes (direct_dw_). Before a batchnorm that
// alone reads them, they write no output: the batchnorm computes each channel when it needs it
// (BatchNorm::set_x_source), cheaper than a batch-sized output written once and read back twice.
//
// Config: {"type": "conv2d", "filters": F, "kernel": k | [kh, kw], "stride": 1, "padding": "valid",
//          "bias": true, "init": ..., "std": ...}
//   filters  required; kernel required; stride default 1; padding "valid" (default), "same"
//            (TensorFlow's split), or int / [ph, pw] zeros on each side
//   init     as affine, with fan_in = C·kh·kw and fan_out = F·kh·kw; default xavier_uniform, or
//            he_normal when the next layer is relu/leaky_relu
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "layer_util.h"
#include "winograd.h"
#include "window.h"

namespace nettrain {

class Conv2d : public WeightedLayer {
 public:
  Conv2d(Index filters, Window window, WeightInit init) : WeightedLayer(std::move(init)), F_(filters), win_(window) {}
  static std::unique_ptr<Layer> create(const ConfigNode& node);

  std::string type() const override { return "conv2d"; }
  Shape build(const std::vector<Shape>& inputs) override;
  std::vector<TensorSpec> parameters() const override;
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
  std::string describe() const override;
  nlohmann::json settings() const override;
  bool fuse_batchnorm_output(Layer& batchnorm) override;
  void finish_segment_weight_grads() override;
  bool output_by_segments() const override { return output_by_segments_; }

 private:
  // Calls f(k, c, i, j, oh_lo, oh_hi, ow_lo, ow_hi) for every row k = (c·kh + i)·kw + j of the
  // column matrix (channel c, kernel tap i, j), with the output rows and columns whose input
  // pixel for that tap lies inside the image (the rest read padding).
  template <class F>
  void for_each_tap(F&& f) const {
    const Window& w = win_;
    for (Index c = 0; c < w.C; ++c)
      for (Index t = 0; t < w.kh * w.kw; ++t) {
        const TapRange& r = taps_[static_cast<std::size_t>(t)];
        f(c * w.kh * w.kw + t, c, t / w.kw, t % w.kw, r.oh_lo, r.oh_hi, r.ow_lo, r.ow_hi);
      }
  }
  // The valid output rows and columns of each kernel tap t = i·kw + j, the same for every
  // channel: computed once at build.
  struct TapRange {
    Index oh_lo, oh_hi, ow_lo, ow_hi;
  };
  std::vector<TapRange> taps_;
  // Writes sample `x` (C·H·W) as K rows of P columns into `col`, whose rows are `ld` apart.
  void im2col(const float* x, float* col, Index ld) const;
  void im2col_rows_whole(const float* x, float* col, Index ld) const;  // stride 1, OW == W
  // Adds the K × P block of `dcol` (rows `ld` apart) into dx (C·H·W), which must start zeroed.
  void col2im(const float* dcol, Index ld, float* dx) const;
  void col2im_rows_whole(const float* dcol, Index ld, float* dx) const;  // stride 1, OW == W

  Index F_;
  Window win_;
  Index K_ = 0, P_ = 0;  // C·kh·kw, OH·OW
  Index chunk_ = 1;      // samples per product
  // 3x3 stride-1 layers with enough channels in and out run forward and backward's dx by
  // Winograd's F(2x2, 3x3) (winograd.h): wf_ from x to y, wd_ from dy to dx, with their filters
  // transformed once per pass into U_fwd_ and U_dx_; dW from the transformed gradients
  // (winograd_backward).
  bool winograd_ = false;
  Winograd23 wf_, wd_;
  Vector U_fwd_, U_dx_;
  std::vector<Index> group_n0_;          // Winograd's forward: the first sample of each group, then N
  std::vector<std::int32_t> column_of_;  // (P): the output column ow of position p = oh·OW + ow
  // (kh·kw, ⌈P/16⌉): bit l of entry (t, q) set when position 16·q + l of tap t reads a pixel
  // inside the image (the AVX-512 rows-whole paths).
  std::vector<std::uint16_t> tap_masks_;
  // W_, dW_: (F, K); b_, db_: (F)
  // Per-thread scratch, indexed by thread_slot().
  struct Scratch {
    Matrix col;  // (K, chunk·P): a sample's columns in forward; a chunk's, then dcol, in backward
    Matrix Y;    // (F, chunk·P): dY in backward
    Matrix
        Yt;  // (chunk·P, F): dY in backward, transposed (dW's product; Winograd: one sample's; unused with direct_dw_)
    Vector wino;  // Winograd layers: Winograd23's scratch (col and Y stay empty)
  };
  Scratch& scratch();
  void size_scratch();

  std::vector<Scratch> scratch_;  // one per thread of the pool
  Matrix dW_parts_;  // (chunks, K·F): each chunk's col·dYᵀ (dW transposed); Winograd: (chunks, 16·C·F); unused with
                     // direct_dw_
  Matrix dW_sum_;               // (K, F): their sum; Winograd: (1, 16·C·F)
  Matrix db_parts_;             // (chunks, F)
  Matrix shard_dW_, shard_db_;  // (shards, F·K), (shards, F): with sample shards (Context::shards)
  // 3x3 stride-1 layers with at most kDirectMaxChannels input channels (a CNN's first layer)
  // take dW and db straight from dy, one (sample, filter) segment at a time
  // (direct_weight_grad): the same bits whether backward hands it the segments from dy or a
  // batchnorm after it does as it computes them (fuse_batchnorm_output), which then never
  // writes the batch-sized dy. Each segment's K dW terms and its Σ dy go to its own row of
  // segment_parts_ (N, F·(K + 1)); finish_segment_weight_grads adds them in sample order.
  bool direct_dw_ = false;
  Matrix segment_parts_;  // (N, F·(K + 1))
  // (N, C·PH·PW): the last forward's input, zero-padded (pad_planes), made in every forward (also
  // eval: a backward may follow it), (H + 2)·PW/(H·W) times the input (28×28: 30·48/784 = 1.84)
  Matrix padded_x_;
  Index dw_blocks_ = 0, dw_ph_ = 0, dw_pw_ = 0;  // 16-column blocks (even), PH = OH + 2, PW = 16·blocks + 16
  std::vector<std::uint16_t> dw_masks_;          // (blocks): the lanes inside OW
  void direct_weight_grad(Index r, Index f, const float* dy);
  // These layers' forward too: each output plane from the padded planes (direct_forward), and
  // when the batchnorm after them takes their output channel by channel (fuse_batchnorm_output)
  // no output at all (output_by_segments).
  bool output_by_segments_ = false;
  void direct_forward(Index r, Index f, float* out) const;
  void pad_planes(const float* x, float* out) const;
  std::vector<Index> chunk_n0_;     // first sample of each backward chunk
  std::vector<Index> shard_chunk_;  // first chunk of each shard, then the chunk count
  void plan_chunks(Index N);
  void winograd_backward(const Matrix& x, const Matrix& dy, Matrix* dx);
  std::pair<Index, Index> chunk_at(Index c, Index N) const;
  void add_parts(const Matrix& parts, Matrix& shard_sums, float* g);
  void shard_part_sum(const Matrix& parts, Index s, float* out) const;
};

}  // namespace nettrain
