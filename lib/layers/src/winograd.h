// Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2015) for one or two samples of a 3x3, stride-1 cross-correlation: each 2x2 block of
// the output ("tile") from the 4x4 input patch under it with 16 multiplies per input channel
// instead of 36, the multiplies of all tiles and channels done as 16 products
//
//   M_ξ (out, T) = U_ξ (out, in) · V_ξ (in, T)   ξ = 0..15, T tiles
//
// with U = G·g·Gᵀ (each 3x3 filter g made 4x4), V = Bᵀ·d·B (each 4x4 patch d), and the tile's
// output Aᵀ·M·A (2x2):
//
//   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
//   Aᵀ = [1 1 1 0; 0 1 -1 -1]
//
// Conv2d runs it for forward (y from x) and for the input gradient, which is the same kind of
// convolution: dx from dy with the filters turned by 180° and in and out swapped ("flipped"),
// padded by 2 − top rows and 2 − left columns before. The weight gradient goes through the same
// transforms backwards: dM = A·dy·Aᵀ of each output tile, dUᵀ_ξ (in, out) = V_ξ·dMᵀ_ξ summed
// over tiles and samples, dg = Gᵀ·dU·G.
#pragma once

#include <cstdint>

#include "nettrain/core/tensor.h"

namespace nettrain {

class Winograd23 {
 public:
  Winograd23() = default;
  // in_ch planes of (IH, IW) into out_ch planes of (OH, OW); output (oh, ow) reads input rows
  // oh − top .. oh − top + 2 and columns ow − left .. ow − left + 2, zero outside the planes.
  Winograd23(Index in_ch, Index out_ch, Index IH, Index IW, Index OH, Index OW, Index top, Index left);

  // U (16, out_ch, in_ch) from the weights: w (out_ch, in_ch, 3, 3), or with `flipped`
  // w (in_ch, out_ch, 3, 3) turned by 180° (the input gradient of the convolution by w).
  void transform_filters(const float* w, bool flipped, float* U) const;
  Index filter_floats() const { return 16 * out_ * in_; }

  // y (out_ch·OH·OW) = the convolution of x (in_ch·IH·IW) by U, plus bias[o] on plane o (bias
  // may be null), for `count` ≤ kMaxGroup samples at once: sample g's x at x + g·x_stride, its y
  // at y + g·y_stride. scratch holds scratch_floats() floats. The samples' tiles side by side
  // make each of the 16 products count times wider (fashion-cnn's conv2: 49 tiles fill 4 AVX-512
  // registers of 16 lanes to 77 %, 98 tiles fill 7 to 88 %; alone, those products ran 158 and
  // 183 GFLOPS on one core). An output's sum runs over in_ch alone; the groups are fixed by the
  // sample count, so the bits never depend on the thread count (here they did not change
  // either: fashion-cnn's model after 2 epochs is the same bytes as one sample at a time).
  static constexpr Index kMaxGroup = 2;
  void run(const float* U, const float* x, Index x_stride, const float* bias, float* y, Index y_stride, Index count,
           float* scratch) const;
  Index scratch_floats() const { return 16 * (in_ + out_) * T_ * kMaxGroup + PH_ * PW_ + 32 + out_; }

  // dUt (16, in_ch, out_ch) = (or +=, with `accumulate`) the transformed weight gradient of one
  // sample: x (in_ch·IH·IW) as in run, dyt its output gradient transposed, (OH·OW, out_ch).
  void weight_grad(const float* x, const float* dyt, float* dUt, bool accumulate, float* scratch) const;
  Index weight_grad_floats() const { return 16 * in_ * out_; }
  // dw (out_ch, in_ch, 3, 3) += Gᵀ·dU·G of dUt as weight_grad wrote it (summed over samples).
  void add_filter_grad(const float* dUt, float* dw) const;

 private:
  Index in_ = 0, out_ = 0, IH_ = 0, IW_ = 0, OH_ = 0, OW_ = 0, top_ = 0, left_ = 0;
  Index TH_ = 0, TW_ = 0, T_ = 0;  // tile rows, tile columns, tiles
  Index PH_ = 0, PW_ = 0;          // one input plane padded to the tiles' reach: 2·TH + 2, 2·TW + 2
  // The AVX-512 transforms' lane tables (winograd.cpp): pick_[k][j] the plane column 2j + k of
  // tile j, zip_ the two registers of interleaved (left, right) outputs; pair_: two tile rows
  // per register.
  bool pair_ = false;
  std::int32_t pick_[4][16] = {};
  std::int32_t zip_[2][16] = {};
  void transform_filter(const float* w, bool flipped, Index o, float* U) const;
  void input_transform(const float* x, float* V, Index ld, float* plane) const;
  void output_transform(const float* M, Index ld, const float* bias, float* y) const;
  void output_grad_transform(const float* dyt, float* dMt, const float* zeros) const;
};

}  // namespace nettrain
