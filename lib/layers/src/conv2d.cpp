// 2-D convolution by im2col + GEMM, by Winograd or directly (forward per sample, backward over chunks
// of samples); formulas and shapes in conv2d.h.
#include "conv2d.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "batchnorm.h"
#include "gemm.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace nettrain {

namespace {
// Columns of one backward product: enough for the GEMM to run at speed, few enough that the
// chunk's dY and dcol blocks stay in L2. Measured with bench/conv_bench.cpp on configs/fashion-cnn.json
// (batch 128, ms per step, Eigen's GEMM on one thread of a loaded machine): 784 columns 703,
// 2048: 510, 4096: 551, 16384: 778, whole batch 845. Not re-measured with OpenBLAS's kernel.
constexpr Index kChunkColumns = 2048;
// Chunk counts rounded up to a multiple of this, the chunks' sizes evened out: the pool claims
// chunks one at a time, and 13 chunks (fashion-cnn's conv2, 128 samples of 10) kept one of this
// machine's 2 cores idle for a chunk of every backward. Measured with bench/conv_bench.cpp
// (ms per step, 4 rounds): 13 chunks 16.9, 14 chunks 16.6, 16 chunks 16.8. Never the thread
// count: the chunks fix the bits.
constexpr Index kChunkMultiple = 2;
// Winograd for 3x3 stride-1 layers with at least this many channels in and out (forward's
// products have C rows to add, dx's F): fewer, and its 16 products per sample are too thin.
constexpr Index kWinogradMinChannels = 16;
// Direct forward and weight gradients (Conv2d::direct_dw_) for 3x3 stride-1 layers with at most
// this many input channels: 9·C multiply-adds per output, 9·C dot products per (sample, filter)
// segment. AVX-512 builds only: one float sum per tap in scalar code would be far slower than the
// product it replaces.
constexpr Index kDirectMaxChannels = 3;
#if defined(__AVX512F__)
constexpr bool kDirectWeightGrad = true;
#else
constexpr bool kDirectWeightGrad = false;
#endif

// One segment's weight gradient terms of a 3x3 stride-1 layer, from the sample's input planes
// zero-padded (Conv2d::padded_x_: PH = OH + 2 rows of PW = 16·blocks + 16, the output's pixel
// (oh, ow) under tap (i, j) at row oh + i, column ow + j): out[(c·3 + i)·3 + j] = Σ over the
// output positions of dy · that pixel, and out[9·C] = Σ dy. `in_ow`: per 16-column block, the
// lanes inside OW (Conv2d::dw_masks_); `blocks` is even.
#if defined(__AVX512F__)
// 32 output columns at a time, two blocks of 16 (past OW, lanes masked, and the second block all
// masked when the count was rounded up to even): each tap has an accumulator per block of the
// pair, in registers, added at the end, then summed across lanes. dy's lanes past OW are zero,
// so the padded planes' other columns add nothing. A block with no lane inside OW is not loaded
// (its address would lie past dy's end).
void direct_weight_grad_3x3(const Window& w, Index blocks, Index PH, Index PW, const float* dy, const float* xp,
                            const std::uint16_t* in_ow, float* out) {
  const Index OW = w.OW;
  const __m512 zero = _mm512_setzero_ps();
  __m512 sum_dy = zero;
  for (Index oh = 0; oh < w.OH; ++oh)
    for (Index q = 0; q < blocks && in_ow[q] != 0; ++q)
      sum_dy = _mm512_add_ps(sum_dy, _mm512_maskz_loadu_ps(in_ow[q], dy + oh * OW + 16 * q));
  out[9 * w.C] = _mm512_reduce_add_ps(sum_dy);
  for (Index c = 0; c < w.C; ++c) {
    const float* plane = xp + c * PH * PW;
    __m512 acc0[9], acc1[9];
    for (int t = 0; t < 9; ++t) acc0[t] = acc1[t] = _mm512_setzero_ps();
    for (Index q = 0; q < blocks; q += 2) {
      const __mmask16 m0 = in_ow[q], m1 = in_ow[q + 1];
      for (Index oh = 0; oh < w.OH; ++oh) {
        const float* d = dy + oh * OW + 16 * q;
        const __m512 d0 = _mm512_maskz_loadu_ps(m0, d), d1 = m1 != 0 ? _mm512_maskz_loadu_ps(m1, d + 16) : zero;
#pragma GCC unroll 3
        for (int i = 0; i < 3; ++i) {
          const float* row = plane + (oh + i) * PW + 16 * q;
#pragma GCC unroll 3
          for (int j = 0; j < 3; ++j) {
            acc0[3 * i + j] = _mm512_fmadd_ps(d0, _mm512_loadu_ps(row + j), acc0[3 * i + j]);
            acc1[3 * i + j] = _mm512_fmadd_ps(d1, _mm512_loadu_ps(row + 16 + j), acc1[3 * i + j]);
          }
        }
      }
    }
    for (int t = 0; t < 9; ++t) out[9 * c + t] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[t], acc1[t]));
  }
}

// One output plane of a 3x3 stride-1 layer from the sample's zero-padded input planes (as
// above), filter weights wf (C, 3, 3): out[oh·OW + ow] = Σ over c, i, j in that order, each a
// fused multiply-add onto the sum so far (from zero), of wf[(c·3 + i)·3 + j] · pixel (oh + i,
// ow + j) of plane c; then + bias. R output rows of two 16-column blocks at a time: 2·R
// independent sums in registers (one sum alone waits on each multiply-add before the next).
// Each input row is loaded once for the R rows, as three whole aligned registers (PW a multiple
// of 16) shifted by one and two columns in registers (a load at a column off the 64-byte line
// takes two). The lanes past OW are not stored.
template <int R>
void direct_forward_rows(Index oh, Index q, Index C, Index PH, Index PW, Index OW, const float* xp, const float* wf,
                         __m512 bias, const std::uint16_t* in_ow, float* out) {
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (Index c = 0; c < C; ++c) {
    const float* plane = xp + c * PH * PW + oh * PW + 16 * q;
    __m512 w[9];
    for (int t = 0; t < 9; ++t) w[t] = _mm512_set1_ps(wf[c * 9 + t]);
#pragma GCC unroll 10
    for (int i = 0; i < R + 2; ++i) {  // input row oh + i: kernel row i − r of output row oh + r
      const float* row = plane + i * PW;
      const __m512i v0 = _mm512_loadu_si512(row), v1 = _mm512_loadu_si512(row + 16), v2 = _mm512_loadu_si512(row + 32);
      const __m512 s[3][2] = {
          {_mm512_castsi512_ps(v0), _mm512_castsi512_ps(v1)},
          {_mm512_castsi512_ps(_mm512_alignr_epi32(v1, v0, 1)), _mm512_castsi512_ps(_mm512_alignr_epi32(v2, v1, 1))},
          {_mm512_castsi512_ps(_mm512_alignr_epi32(v1, v0, 2)), _mm512_castsi512_ps(_mm512_alignr_epi32(v2, v1, 2))}};
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const int k = i - r;
        if (k < 0 || k > 2) continue;
#pragma GCC unroll 3
        for (int j = 0; j < 3; ++j) {
          acc[r][0] = _mm512_fmadd_ps(w[3 * k + j], s[j][0], acc[r][0]);
          acc[r][1] = _mm512_fmadd_ps(w[3 * k + j], s[j][1], acc[r][1]);
        }
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    float* o = out + (oh + r) * OW + 16 * q;
    _mm512_mask_storeu_ps(o, in_ow[q], _mm512_add_ps(acc[r][0], bias));
    if (in_ow[q + 1] != 0) _mm512_mask_storeu_ps(o + 16, in_ow[q + 1], _mm512_add_ps(acc[r][1], bias));
  }
}

void direct_forward_3x3(const Window& w, Index blocks, Index PH, Index PW, const float* xp, const float* wf, float bias,
                        const std::uint16_t* in_ow, float* out) {
  const __m512 b = _mm512_set1_ps(bias);
  for (Index q = 0; q < blocks && in_ow[q] != 0; q += 2) {
    Index oh = 0;
    for (; oh + 4 <= w.OH; oh += 4) direct_forward_rows<4>(oh, q, w.C, PH, PW, w.OW, xp, wf, b, in_ow, out);
    for (; oh < w.OH; ++oh) direct_forward_rows<1>(oh, q, w.C, PH, PW, w.OW, xp, wf, b, in_ow, out);
  }
}
#endif
}  // namespace

std::unique_ptr<Layer> Conv2d::create(const ConfigNode& node) {
  check_layer_keys(node, {"filters", "kernel", "stride", "padding", "bias", "init", "std"});
  const Index filters = node.get_positive_int("filters");
  const Window window = Window::read(node, 0, false, true);
  return std::make_unique<Conv2d>(filters, window, WeightInit::read(node));
}

Shape Conv2d::build(const std::vector<Shape>& inputs) {
  require_inputs(inputs, 1);
  win_.resolve(inputs[0]);
  K_ = win_.C * win_.kh * win_.kw;
  P_ = win_.OH * win_.OW;
  chunk_ = std::max<Index>(1, kChunkColumns / P_);
  winograd_ = win_.kh == 3 && win_.kw == 3 && win_.sh == 1 && win_.sw == 1 && win_.C >= kWinogradMinChannels &&
              F_ >= kWinogradMinChannels;
  if (winograd_) {
    wf_ = Winograd23(win_.C, F_, win_.H, win_.W, win_.OH, win_.OW, win_.top, win_.left);
    wd_ = Winograd23(F_, win_.C, win_.OH, win_.OW, win_.H, win_.W, 2 - win_.top, 2 - win_.left);
  }
  taps_.clear();
  for (Index i = 0; i < win_.kh; ++i)
    for (Index j = 0; j < win_.kw; ++j) {
      TapRange r{};
      win_.valid_range_h(i, r.oh_lo, r.oh_hi);
      win_.valid_range_w(j, r.ow_lo, r.ow_hi);
      taps_.push_back(r);
    }
  direct_dw_ =
      kDirectWeightGrad && win_.kh == 3 && win_.kw == 3 && win_.sh == 1 && win_.sw == 1 && win_.C <= kDirectMaxChannels;
  dw_blocks_ = (win_.OW + 15) / 16 + (win_.OW + 15) / 16 % 2;  // an even count
  dw_ph_ = win_.OH + 2;
  dw_pw_ = 16 * dw_blocks_ + 16;  // a multiple of 16: direct_forward_rows loads whole aligned rows
  dw_masks_.assign(static_cast<std::size_t>(dw_blocks_), 0);
  for (Index ow = 0; ow < win_.OW; ++ow)
    dw_masks_[static_cast<std::size_t>(ow / 16)] |= static_cast<std::uint16_t>(1u << (ow % 16));
  column_of_.resize(static_cast<std::size_t>(P_));
  for (Index p = 0; p < P_; ++p) column_of_[static_cast<std::size_t>(p)] = static_cast<std::int32_t>(p % win_.OW);
  // Per tap and 16 positions, the lanes whose input pixel lies inside the image.
  const Index blocks = (P_ + 15) / 16;
  tap_masks_.assign(taps_.size() * static_cast<std::size_t>(blocks), 0);
  for (std::size_t t = 0; t < taps_.size(); ++t) {
    const TapRange& r = taps_[t];
    for (Index p = 0; p < P_; ++p) {
      const Index oh = p / win_.OW, ow = p % win_.OW;
      if (oh >= r.oh_lo && oh < r.oh_hi && ow >= r.ow_lo && ow < r.ow_hi)
        tap_masks_[t * static_cast<std::size_t>(blocks) + static_cast<std::size_t>(p / 16)] |=
            static_cast<std::uint16_t>(1u << (p % 16));
    }
  }
  return Shape{F_, win_.OH, win_.OW};
}

std::vector<TensorSpec> Conv2d::parameters() const {
  return weight_and_bias({F_, win_.C, win_.kh, win_.kw}, F_, K_, F_ * win_.kh * win_.kw);
}

void Conv2d::im2col(const float* x, float* col, Index ld) const {
  const Window& w = win_;
  if (w.sh == 1 && w.sw == 1 && w.OW == w.W) {
    im2col_rows_whole(x, col, ld);
    return;
  }
  for_each_tap([&](Index k, Index c, Index i, Index j, Index oh_lo, Index oh_hi, Index ow_lo, Index ow_hi) {
    float* row = col + k * ld;
    std::fill(row, row + oh_lo * w.OW, 0.0f);
    for (Index oh = oh_lo; oh < oh_hi; ++oh) {
      float* out = row + oh * w.OW;
      const float* in = x + (c * w.H + oh * w.sh - w.top + i) * w.W + j - w.left;
      std::fill(out, out + ow_lo, 0.0f);
      if (w.sw == 1) {
        std::copy(in + ow_lo, in + ow_hi, out + ow_lo);
      } else {
        for (Index ow = ow_lo; ow < ow_hi; ++ow) out[ow] = in[ow * w.sw];
      }
      std::fill(out + ow_hi, out + w.OW, 0.0f);
    }
    std::fill(row + oh_hi * w.OW, row + P_, 0.0f);
  });
}

#if defined(__AVX512F__)
namespace {
// The address x + offset, computed without C++ pointer arithmetic: near a sample's edges the
// offset may point before or past it, where a masked load or store touches only its lanes that
// are on (inside the sample) and never faults on the others.
template <class T>
T* at_offset(T* x, Index offset) {
  return reinterpret_cast<T*>(reinterpret_cast<std::uintptr_t>(x) +
                              static_cast<std::uintptr_t>(offset) * sizeof(float));
}
__mmask16 first_lanes(Index n) { return n >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << n) - 1u); }
// A 16-float load kept a load: without the barrier GCC folds the zero-masking that follows into a
// masked load, which ran ~20 % slower here (AMD Zen 5) than a load and a masked move.
__m512 load16(const float* p) {
  __m512 v = _mm512_loadu_ps(p);
  asm("" : "+v"(v));
  return v;
}
}  // namespace

// Stride 1 with output rows as wide as the input's ("same" padding, or none across): a tap's
// row of col is the channel's plane shifted by (i − top)·W + j − left, with the positions whose
// pixel lies in the padding (or wrapped around from a neighbouring image row) set to zero.
//
// On AVX-512, 16 positions at a time: the shifted plane loaded whole (where all 16 lanes lie in
// the sample), the lanes over the padding zeroed by the tap's mask, one full store. The scalar
// version below spent most of its time in per-tap copy and fill calls (conv2 of
// configs/fashion-cnn.json has 288 taps of 196 positions). The same values.
void Conv2d::im2col_rows_whole(const float* x, float* col, Index ld) const {
  const Index sample = win_.C * win_.H * win_.W, plane = win_.H * win_.W, W = win_.W, top = win_.top, left = win_.left,
              kw = win_.kw, P = P_, blocks = (P_ + 15) / 16;
  for_each_tap([&](Index k, Index c, Index i, Index j, Index, Index, Index, Index) {
    float* row = col + k * ld;
    const std::uint16_t* masks = tap_masks_.data() + (i * kw + j) * blocks;
    const Index base = c * plane + (i - top) * W + (j - left);  // the sample index under position 0
    for (Index q = 0; q < blocks; ++q) {
      const Index p0 = 16 * q, lo = base + p0;
      const __mmask16 m = masks[q];
      const __m512 v = lo >= 0 && lo + 16 <= sample ? _mm512_maskz_mov_ps(m, load16(x + lo))
                                                    : _mm512_maskz_loadu_ps(m, at_offset(x, lo));
      if (p0 + 16 <= P) _mm512_storeu_ps(row + p0, v);
      else _mm512_mask_storeu_ps(row + p0, first_lanes(P - p0), v);
    }
  });
}
#else
// One copy moves all of a tap's valid rows; the columns that copy wrapped around from a
// neighbouring image row are then set to the padding's zero. One copy per tap instead of one per
// tap and output row.
void Conv2d::im2col_rows_whole(const float* x, float* col, Index ld) const {
  const Window& w = win_;
  for_each_tap([&](Index k, Index c, Index i, Index j, Index oh_lo, Index oh_hi, Index ow_lo, Index ow_hi) {
    float* row = col + k * ld;
    if (oh_lo >= oh_hi || ow_lo >= ow_hi) {
      std::fill(row, row + P_, 0.0f);
      return;
    }
    const Index first = oh_lo * w.OW + ow_lo, last = (oh_hi - 1) * w.OW + ow_hi;     // [first, last)
    const float* in = x + c * w.H * w.W + first + (i - w.top) * w.W + (j - w.left);  // under `first`
    std::fill(row, row + first, 0.0f);
    std::copy(in, in + (last - first), row + first);
    std::fill(row + last, row + P_, 0.0f);
    for (Index oh = oh_lo; oh < oh_hi; ++oh) {
      float* out = row + oh * w.OW;
      for (Index ow = 0; ow < ow_lo; ++ow) out[ow] = 0.0f;
      for (Index ow = ow_hi; ow < w.OW; ++ow) out[ow] = 0.0f;
    }
  });
}
#endif

void Conv2d::col2im(const float* dcol, Index ld, float* dx) const {
  const Window& w = win_;
  if (w.sh == 1 && w.sw == 1 && w.OW == w.W) {
    col2im_rows_whole(dcol, ld, dx);
    return;
  }
  for_each_tap([&](Index k, Index c, Index i, Index j, Index oh_lo, Index oh_hi, Index ow_lo, Index ow_hi) {
    const float* row = dcol + k * ld;
    for (Index oh = oh_lo; oh < oh_hi; ++oh) {
      const float* d = row + oh * w.OW;
      float* out = dx + (c * w.H + oh * w.sh - w.top + i) * w.W + j - w.left;
      if (w.sw == 1) {
        for (Index ow = ow_lo; ow < ow_hi; ++ow) out[ow] += d[ow];
      } else {
        for (Index ow = ow_lo; ow < ow_hi; ++ow) out[ow * w.sw] += d[ow];
      }
    }
  });
}

#if defined(__AVX512F__)
// The reverse of im2col_rows_whole, 16 positions at a time: dx's values under a tap loaded whole
// (where all 16 lanes lie in the sample), the tap's valid lanes added, all 16 stored back (the
// others unchanged, bit for bit). The same sums in the same tap order as the scalar version.
void Conv2d::col2im_rows_whole(const float* dcol, Index ld, float* dx) const {
  const Index sample = win_.C * win_.H * win_.W, plane = win_.H * win_.W, W = win_.W, top = win_.top, left = win_.left,
              kw = win_.kw, P = P_, blocks = (P_ + 15) / 16;
  for_each_tap([&](Index k, Index c, Index i, Index j, Index, Index, Index, Index) {
    const float* row = dcol + k * ld;
    const std::uint16_t* masks = tap_masks_.data() + (i * kw + j) * blocks;
    const Index base = c * plane + (i - top) * W + (j - left);
    for (Index q = 0; q < blocks; ++q) {
      const Index p0 = 16 * q, lo = base + p0;
      const __mmask16 m = masks[q];
      if (m == 0) continue;
      const __m512 d = p0 + 16 <= P ? _mm512_maskz_mov_ps(m, load16(row + p0)) : _mm512_maskz_loadu_ps(m, row + p0);
      if (lo >= 0 && lo + 16 <= sample) {
        const __m512 o = load16(dx + lo);
        _mm512_storeu_ps(dx + lo, _mm512_mask_add_ps(o, m, o, d));
      } else {
        float* out = at_offset(dx, lo);
        _mm512_mask_storeu_ps(out, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, out), d));
      }
    }
  });
}
#else
// The reverse of im2col_rows_whole: one pass per tap over [first, last), adding where the
// output column is inside [ow_lo, ow_hi) and keeping dx's value (not adding a zero, which would
// turn a −0 into +0) elsewhere. Each dx value gets the same sums in the same tap order as the
// row-by-row loop.
void Conv2d::col2im_rows_whole(const float* dcol, Index ld, float* dx) const {
  const Window& w = win_;
  for_each_tap([&](Index k, Index c, Index i, Index j, Index oh_lo, Index oh_hi, Index ow_lo, Index ow_hi) {
    if (oh_lo >= oh_hi || ow_lo >= ow_hi) return;
    const Index first = oh_lo * w.OW + ow_lo, last = (oh_hi - 1) * w.OW + ow_hi;
    const float* __restrict d = dcol + k * ld + first;
    float* __restrict out = dx + c * w.H * w.W + first + (i - w.top) * w.W + (j - w.left);
    const std::int32_t* __restrict ow = column_of_.data() + first;
    const auto lo = static_cast<std::int32_t>(ow_lo), hi = static_cast<std::int32_t>(ow_hi);
    for (Index q = 0; q < last - first; ++q) out[q] = ow[q] >= lo && ow[q] < hi ? out[q] + d[q] : out[q];
  });
}
#endif

namespace {
// dst (cols, rows) = srcᵀ, src (rows, cols): row-major with leading dimensions src_ld, dst_ld.
#if defined(__AVX512F__)
// 16×16 blocks in registers (unpacks within 128-bit lanes, then lane shuffles); the edges one
// value at a time.
void transpose_16x16(const float* src, Index src_ld, float* dst, Index dst_ld) {
  __m512 r[16], a[16], b[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * src_ld);
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // b[4q + j], 128-bit lane L: column 4L + j of rows 4q .. 4q + 3
  for (int q = 0; q < 4; ++q) {
    b[4 * q + 0] = _mm512_shuffle_ps(a[4 * q], a[4 * q + 2], 0x44);
    b[4 * q + 1] = _mm512_shuffle_ps(a[4 * q], a[4 * q + 2], 0xEE);
    b[4 * q + 2] = _mm512_shuffle_ps(a[4 * q + 1], a[4 * q + 3], 0x44);
    b[4 * q + 3] = _mm512_shuffle_ps(a[4 * q + 1], a[4 * q + 3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {
    const __m512 lo01 = _mm512_shuffle_f32x4(b[j], b[4 + j], 0x88), hi01 = _mm512_shuffle_f32x4(b[j], b[4 + j], 0xDD);
    const __m512 lo23 = _mm512_shuffle_f32x4(b[8 + j], b[12 + j], 0x88),
                 hi23 = _mm512_shuffle_f32x4(b[8 + j], b[12 + j], 0xDD);
    _mm512_storeu_ps(dst + (0 + j) * dst_ld, _mm512_shuffle_f32x4(lo01, lo23, 0x88));
    _mm512_storeu_ps(dst + (8 + j) * dst_ld, _mm512_shuffle_f32x4(lo01, lo23, 0xDD));
    _mm512_storeu_ps(dst + (4 + j) * dst_ld, _mm512_shuffle_f32x4(hi01, hi23, 0x88));
    _mm512_storeu_ps(dst + (12 + j) * dst_ld, _mm512_shuffle_f32x4(hi01, hi23, 0xDD));
  }
}
#endif

void transpose(const float* src, Index src_ld, Index rows, Index cols, float* dst, Index dst_ld) {
  Index r0 = 0;
#if defined(__AVX512F__)
  const Index rows16 = rows / 16 * 16, cols16 = cols / 16 * 16;
  for (Index r = 0; r < rows16; r += 16)
    for (Index c = 0; c < cols16; c += 16) transpose_16x16(src + r * src_ld + c, src_ld, dst + c * dst_ld + r, dst_ld);
  // the right edge of the rows done in blocks, then the bottom rows
  for (Index r = 0; r < rows16; ++r)
    for (Index c = cols16; c < cols; ++c) dst[c * dst_ld + r] = src[r * src_ld + c];
  r0 = rows16;
#endif
  for (Index r = r0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c) dst[c * dst_ld + r] = src[r * src_ld + c];
}
}  // namespace

Conv2d::Scratch& Conv2d::scratch() { return scratch_[static_cast<std::size_t>(thread_slot())]; }

// Sizes every thread's scratch before the chunks run: nothing allocates (or throws) inside them.
void Conv2d::size_scratch() {
  scratch_.resize(static_cast<std::size_t>(num_threads()));
  for (Scratch& s : scratch_) {
    ensure_size(s.Yt, chunk_ * P_, F_);
    if (winograd_) {
      s.wino.resize(std::max(wf_.scratch_floats(), wd_.scratch_floats()));
    } else {
      ensure_size(s.Y, F_, chunk_ * P_);
      ensure_size(s.col, K_, chunk_ * P_);
    }
  }
}

void Conv2d::forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) {
  keep_shards(ctx);
  const Matrix& in = *x[0];
  const Index N = in.rows();
  size_scratch();
  // Handing its output to the batchnorm channel by channel, it has none of its own.
  ensure_size(y, N, output_by_segments_ ? 0 : F_ * P_);
  if (direct_dw_) {
    ensure_size(segment_parts_, N, F_ * (K_ + 1));
    ensure_size(padded_x_, N, win_.C * dw_ph_ * dw_pw_);
    // Samples are independent: each thread takes an equal share.
    parallel_split(N, 1, [&](Index n0, Index n1) {
      for (Index n = n0; n < n1; ++n) {
        pad_planes(in.row(n).data(), padded_x_.row(n).data());
        if (!output_by_segments_)
          for (Index f = 0; f < F_; ++f) direct_forward(n, f, y.row(n).data() + f * P_);
      }
    });
    return;
  }
  if (winograd_) {
    U_fwd_.resize(wf_.filter_floats());
    wf_.transform_filters(W_, false, U_fwd_.data());
    // Samples in groups of Winograd23::kMaxGroup from each shard's first (a process holding one
    // shard groups its samples alike), the groups split over the pool.
    group_n0_.clear();
    for_each_shard(N, [&](Index n0, Index n1) {
      for (Index n = n0; n < n1; n += Winograd23::kMaxGroup) group_n0_.push_back(n);
    });
    group_n0_.push_back(N);
    parallel_split(static_cast<Index>(group_n0_.size()) - 1, 1, [&](Index g0, Index g1) {
      Scratch& s = scratch();
      for (Index g = g0; g < g1; ++g) {
        const Index n = group_n0_[static_cast<std::size_t>(g)],
                    count = std::min(Winograd23::kMaxGroup, group_n0_[static_cast<std::size_t>(g + 1)] - n);
        wf_.run(U_fwd_.data(), in.row(n).data(), in.cols(), init_.bias ? b_ : nullptr, y.row(n).data(), y.cols(), count,
                s.wino.data());
      }
    });
    return;
  }
  // One product per sample, straight into its (F, P) block of y, from one sample's columns (in
  // L2): LIBXSMM takes the conv layers of configs/ (one thread, GFLOPS, one chunk's product
  // then a copy into y against a product per sample: fashion-cnn's conv2 201 -> 226, conv1
  // 222 -> 239, fashion-cnn-aug's 32 -> 32 filters at 28x28 175 -> 246). Samples are
  // independent, so each thread takes an equal share.
  parallel_split(N, 1, [&](Index n0, Index n1) {
    Scratch& s = scratch();
    for (Index n = n0; n < n1; ++n) {
      float* out = y.row(n).data();
      im2col(in.row(n).data(), s.col.data(), P_);
      gemm_detail::sgemm(false, false, F_, P_, K_, W_, K_, s.col.data(), P_, 0.0f, out, P_);  // (F, P)
      if (init_.bias)
        for (Index f = 0; f < F_; ++f) RowVectorMap(out + f * P_, P_).array() += b_[f];
    }
  });
}

// Each chunk builds its columns again from x (cheaper than keeping the whole batch's: col is
// K/C times the input, written once and read once through main memory), then writes dcol over
// them once dW's product has used them. Layers with direct weight gradients (direct_dw_) take
// dW and db per (sample, filter) first, and the chunks only compute dx (no columns, no dYᵀ).
void Conv2d::backward(std::span<const Matrix* const> x, const Matrix& /*y*/, const Matrix& dy,
                      std::span<Matrix* const> dx) {
  const Index N = dy.rows();
  plan_chunks(N);
  const auto chunks = static_cast<Index>(chunk_n0_.size());
  if (dx[0] != nullptr) ensure_size(*dx[0], N, win_.C * win_.H * win_.W);
  size_scratch();
  if (init_.bias) ensure_size(db_parts_, chunks, F_);
  if (winograd_) {
    winograd_backward(*x[0], dy, dx[0]);
    return;
  }
  if (direct_dw_) {  // from the last forward's input planes (pad_planes), not from x
    if (segment_parts_.rows() != N) throw std::logic_error("Conv2d::backward before its forward");
    parallel_split(N, 1, [&](Index n0, Index n1) {
      for (Index n = n0; n < n1; ++n)
        for (Index f = 0; f < F_; ++f) direct_weight_grad(n, f, dy.row(n).data() + f * P_);
    });
    finish_segment_weight_grads();
    if (dx[0] == nullptr) return;
  }
  ensure_size(dW_parts_, chunks, F_ * K_);
  const Index ld = chunk_ * P_;
  parallel_for_chunks(chunks, [&](Index chunk) {
    const auto [n0, G] = chunk_at(chunk, N);
    Scratch& s = scratch();
    // dY's chunk as (G·P, F) for dW's product, and as (F, G·P) for dx's
    for (Index g = 0; g < G; ++g) {
      const float* dy_g = dy.row(n0 + g).data();  // (F, P)
      if (!direct_dw_) transpose(dy_g, P_, F_, P_, s.Yt.data() + g * P_ * F_, F_);
      if (dx[0] != nullptr) s.Y.middleCols(g * P_, P_) = Eigen::Map<const Matrix>(dy_g, F_, P_);
    }
    if (!direct_dw_) {
      for (Index g = 0; g < G; ++g) im2col(x[0]->row(n0 + g).data(), s.col.data() + g * P_, ld);
      // (K, F) = col·dYᵀ: no operand transposed, so LIBXSMM takes the shapes it is fast on
      gemm_detail::sgemm(false, false, K_, F_, G * P_, s.col.data(), ld, s.Yt.data(), F_, 0.0f,
                         dW_parts_.row(chunk).data(), F_);
      if (init_.bias) db_parts_.row(chunk).noalias() = s.Yt.topRows(G * P_).colwise().sum();
    }
    if (dx[0] == nullptr) return;
    // (K, G·P) = Wmᵀ·dY, into the columns' storage
    gemm_detail::sgemm(true, false, K_, G * P_, F_, W_, K_, s.Y.data(), ld, 0.0f, s.col.data(), ld);
    dx[0]->middleRows(n0, G).setZero();
    for (Index g = 0; g < G; ++g) col2im(s.col.data() + g * P_, ld, dx[0]->row(n0 + g).data());
  });
  if (direct_dw_) return;
  dW_sum_.setZero(K_, F_);
  add_parts(dW_parts_, shard_dW_, dW_sum_.data());
  Eigen::Map<Matrix>(dW_, F_, K_) += dW_sum_.transpose();
  if (init_.bias) add_parts(db_parts_, shard_db_, db_);
}

// The batchnorm computes its input's channels from the last forward's padded planes and the
// current weights as it needs them (9·C multiply-adds per value, cheaper than reading it back
// from memory), and hands back the output gradient's segments.
bool Conv2d::fuse_batchnorm_output(Layer& batchnorm) {
  auto* bn = dynamic_cast<BatchNorm*>(&batchnorm);
  if (!direct_dw_ || bn == nullptr) return false;
  bn->set_dx_sink([this](Index r, Index f, const float* dy) { direct_weight_grad(r, f, dy); });
  bn->set_x_source(
      [this](Index f, float* out, Index ld) {
        for (Index r = 0; r < padded_x_.rows(); ++r) direct_forward(r, f, out + r * ld);
      },
      [this] { return padded_x_.rows(); });
  output_by_segments_ = true;
  return true;
}

// Sample r's output plane of filter f (P values), from the last forward's input planes.
void Conv2d::direct_forward(Index r, Index f, float* out) const {
#if defined(__AVX512F__)
  direct_forward_3x3(win_, dw_blocks_, dw_ph_, dw_pw_, padded_x_.row(r).data(), W_ + f * K_, init_.bias ? b_[f] : 0.0f,
                     dw_masks_.data(), out);
#else
  (void)r, (void)f, (void)out;
  throw std::logic_error("Conv2d: direct convolution needs AVX-512");  // direct_dw_ is never set
#endif
}

// Sample r's dy of filter f (P values): its row of segment_parts_, from the last forward's input.
void Conv2d::direct_weight_grad(Index r, Index f, const float* dy) {
#if defined(__AVX512F__)
  direct_weight_grad_3x3(win_, dw_blocks_, dw_ph_, dw_pw_, dy, padded_x_.row(r).data(), dw_masks_.data(),
                         segment_parts_.row(r).data() + f * (K_ + 1));
#else
  (void)r, (void)f, (void)dy;
  throw std::logic_error("Conv2d: direct weight gradients need AVX-512");  // direct_dw_ is never set
#endif
}

// One sample's input planes (C·H·W) into `out` zero-padded as direct_weight_grad_3x3 and
// direct_forward_rows read them.
void Conv2d::pad_planes(const float* x, float* out) const {
  const Window& w = win_;
  std::fill(out, out + w.C * dw_ph_ * dw_pw_, 0.0f);
  for (Index c = 0; c < w.C; ++c)
    for (Index h = 0; h < w.H; ++h) {
      const Index ph = h + w.top;
      if (ph >= dw_ph_) break;
      const Index first = std::max<Index>(0, -w.left), last = std::min(w.W, dw_pw_ - w.left);
      for (Index v = first; v < last; ++v) out[(c * dw_ph_ + ph) * dw_pw_ + v + w.left] = x[(c * w.H + h) * w.W + v];
    }
}

// dW and db from segment_parts_: each term's float parts added in sample order in double; with
// sample shards, per shard (rounded to float), then the shards in the shard tree.
void Conv2d::finish_segment_weight_grads() {
  const Index N = segment_parts_.rows(), width = K_ + 1;
  const auto add_rows = [&](Index r0, Index r1, float* dw, float* db) {
    for (Index f = 0; f < F_; ++f)
      for (Index k = 0; k < width; ++k) {
        double sum = 0.0;
        for (Index r = r0; r < r1; ++r) sum += static_cast<double>(segment_parts_(r, f * width + k));
        if (k < K_) dw[f * K_ + k] += static_cast<float>(sum);
        else if (db != nullptr) db[f] += static_cast<float>(sum);
      }
  };
  if (shards_.empty()) {
    add_rows(0, N, dW_, init_.bias ? db_ : nullptr);
    return;
  }
  const auto k = static_cast<Index>(shards_.size()) - 1;
  ensure_size(shard_dW_, k, F_ * K_);
  ensure_size(shard_db_, k, F_);
  shard_dW_.setZero();
  shard_db_.setZero();
  for (Index s = 0; s < k; ++s) {
    const auto i = static_cast<std::size_t>(s);
    add_rows(shards_[i], shards_[i + 1], shard_dW_.row(s).data(), shard_db_.row(s).data());
  }
  add_shard_tree(shard_dW_, k, dW_);
  if (init_.bias) add_shard_tree(shard_db_, k, db_);
}

// Winograd's backward, sample by sample within the chunks: dy transposed (P, F), its part of
// the chunk's transformed weight gradient (added sample after sample), its part of db, and its
// dx by the flipped filters. The chunks' parts are then added in chunk order, as im2col's are,
// and transformed back into dW once (with sample shards, once per shard).
void Conv2d::winograd_backward(const Matrix& x, const Matrix& dy, Matrix* dx) {
  const Index N = dy.rows();
  const auto chunks = static_cast<Index>(chunk_n0_.size());
  ensure_size(dW_parts_, chunks, wf_.weight_grad_floats());
  if (dx != nullptr) {
    U_dx_.resize(wd_.filter_floats());
    wd_.transform_filters(W_, true, U_dx_.data());
  }
  parallel_for_chunks(chunks, [&](Index chunk) {
    const auto [n0, G] = chunk_at(chunk, N);
    Scratch& s = scratch();
    auto dU = dW_parts_.row(chunk);
    if (G == 0) {  // an empty shard's chunk
      dU.setZero();
      if (init_.bias) db_parts_.row(chunk).setZero();
      return;
    }
    for (Index g = 0; g < G; ++g) {
      const float* dy_g = dy.row(n0 + g).data();  // (F, P)
      transpose(dy_g, P_, F_, P_, s.Yt.data(), F_);
      wf_.weight_grad(x.row(n0 + g).data(), s.Yt.data(), dU.data(), g > 0, s.wino.data());
      if (init_.bias) {
        if (g == 0) db_parts_.row(chunk).noalias() = s.Yt.topRows(P_).colwise().sum();
        else db_parts_.row(chunk) += s.Yt.topRows(P_).colwise().sum();
      }
      // dx of the chunk's samples in groups from its first
      const Index group = Winograd23::kMaxGroup;
      if (dx != nullptr && (g % group == group - 1 || g == G - 1)) {
        const Index first = g / group * group;
        wd_.run(U_dx_.data(), dy.row(n0 + first).data(), dy.cols(), nullptr, dx->row(n0 + first).data(), dx->cols(),
                g + 1 - first, s.wino.data());
      }
    }
  });
  if (init_.bias) add_parts(db_parts_, shard_db_, db_);
  const Index n = wf_.weight_grad_floats();
  if (shards_.empty()) {
    dW_sum_.setZero(1, n);
    add_parts(dW_parts_, shard_dW_, dW_sum_.data());
    wf_.add_filter_grad(dW_sum_.data(), dW_);
    return;
  }
  // With sample shards each shard's sum is transformed back on its own, then the shards' dW
  // added in the shard tree: what a process holding only that shard computes before the sum
  // across processes (the transform is linear, but its roundings are not).
  const auto k = static_cast<Index>(shard_chunk_.size()) - 1;
  ensure_size(shard_dW_, k, F_ * K_);
  dW_sum_.resize(1, n);
  for (Index sh = 0; sh < k; ++sh) {
    shard_part_sum(dW_parts_, sh, dW_sum_.data());
    shard_dW_.row(sh).setZero();
    wf_.add_filter_grad(dW_sum_.data(), shard_dW_.row(sh).data());
  }
  add_shard_tree(shard_dW_, k, dW_);
}

// The first sample and the sample count of chunk c (plan_chunks) of a batch of N.
std::pair<Index, Index> Conv2d::chunk_at(Index c, Index N) const {
  const auto i = static_cast<std::size_t>(c);
  const Index n0 = chunk_n0_[i];
  return {n0, (i + 1 < chunk_n0_.size() ? chunk_n0_[i + 1] : N) - n0};
}

// Chunks of at most chunk_ samples, their count a multiple of kChunkMultiple where the samples
// allow; with sample shards, chunks never cross a shard's edge.
void Conv2d::plan_chunks(Index N) {
  chunk_n0_.clear();
  shard_chunk_.clear();
  for_each_shard(N, [&](Index n0, Index n1) {
    shard_chunk_.push_back(static_cast<Index>(chunk_n0_.size()));
    // ⌈n / chunk_⌉ chunks, rounded up to a multiple of kChunkMultiple, of equal sizes (±1)
    const Index n = n1 - n0;
    Index count = (n + chunk_ - 1) / chunk_;
    if (count > 1) count = std::min(n, (count + kChunkMultiple - 1) / kChunkMultiple * kChunkMultiple);
    for (Index c = 0; c < count; ++c) chunk_n0_.push_back(n0 + n * c / count);
    if (n == 0) chunk_n0_.push_back(n0);  // an empty shard: one empty chunk
  });
  shard_chunk_.push_back(static_cast<Index>(chunk_n0_.size()));
}

// The chunks' parts in chunk order (the same sum whichever threads computed them); with sample
// shards, each shard's chunks in order, then the shards in the shard tree.
void Conv2d::add_parts(const Matrix& parts, Matrix& shard_sums, float* g) {
  RowVectorMap out(g, parts.cols());
  if (shards_.empty()) {
    for (Index c = 0; c < parts.rows(); ++c) out += parts.row(c);
    return;
  }
  const auto k = static_cast<Index>(shard_chunk_.size()) - 1;
  ensure_size(shard_sums, k, parts.cols());
  for (Index s = 0; s < k; ++s) shard_part_sum(parts, s, shard_sums.row(s).data());
  add_shard_tree(shard_sums, k, g);
}

// Shard s's chunks' parts in chunk order (the first assigned, the rest added) into out.
void Conv2d::shard_part_sum(const Matrix& parts, Index s, float* out) const {
  const Index c0 = shard_chunk_[static_cast<std::size_t>(s)], c1 = shard_chunk_[static_cast<std::size_t>(s + 1)];
  RowVectorMap sum(out, parts.cols());
  sum = parts.row(c0);
  for (Index c = c0 + 1; c < c1; ++c) sum += parts.row(c);
}

nlohmann::json Conv2d::settings() const {
  nlohmann::json s = win_.settings();
  s["filters"] = F_;
  s["bias"] = init_.bias;
  return s;
}

std::string Conv2d::describe() const {
  return "filters=" + std::to_string(F_) + " " + win_.describe() + describe_init();
}

}  // namespace nettrain
