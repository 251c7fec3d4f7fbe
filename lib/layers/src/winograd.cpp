// F(2x2, 3x3) for one or two samples: the transforms and the 16 products (winograd.h).
#include "winograd.h"

#include <algorithm>

#include "gemm.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace nettrain {

#if defined(__AVX512F__)
namespace {
__mmask16 lanes(Index n) { return n >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << n) - 1u); }
}  // namespace
#endif

Winograd23::Winograd23(Index in_ch, Index out_ch, Index IH, Index IW, Index OH, Index OW, Index top, Index left)
    : in_(in_ch), out_(out_ch), IH_(IH), IW_(IW), OH_(OH), OW_(OW), top_(top), left_(left) {
  TH_ = (OH + 1) / 2;
  TW_ = (OW + 1) / 2;
  T_ = TH_ * TW_;
  PH_ = 2 * TH_ + 2;
  PW_ = 2 * TW_ + 2;
  // Rows of at most 16: two tile rows share a register, tile row ti in lanes [0, TW) and ti + 1
  // in [TW, 2·TW); picks from the first row's register are lanes 0-15, from the second's 16-31.
  // Wider rows (at most 32): one tile row, its row of the plane in two registers.
  pair_ = PW_ <= 16;
  for (int j = 0; j < 16; ++j) {
    const int tw = static_cast<int>(TW_);
    const int col = pair_ ? (j < tw ? 2 * j : j < 2 * tw ? 16 + 2 * (j - tw) : 0) : 2 * j;
    for (int k = 0; k < 4; ++k) pick_[k][j] = (col + k) % 32;  // columns 2j, 2j + 1, 2j + 2, 2j + 3
    // outputs: lane 2q of a row the left output of tile q, lane 2q + 1 its right one
    const int q = j / 2, side = j % 2 ? 16 : 0;
    zip_[0][j] = side + q;
    zip_[1][j] = side + (pair_ ? tw + q : 8 + q);
  }
}

// Filters are independent: the output filters split over the pool (one thread alone left the
// other waiting ~0.1 ms per call on fashion-cnn's conv2).
void Winograd23::transform_filters(const float* w, bool flipped, float* U) const {
  parallel_split(out_, 8, [&](Index o0, Index o1) {
    for (Index o = o0; o < o1; ++o) transform_filter(w, flipped, o, U);
  });
}

// Output filter o's part of U.
void Winograd23::transform_filter(const float* w, bool flipped, Index o, float* U) const {
  for (Index i = 0; i < in_; ++i) {
    float g[3][3];
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b)
        g[a][b] = flipped ? w[((i * out_ + o) * 3 + 2 - a) * 3 + 2 - b] : w[((o * in_ + i) * 3 + a) * 3 + b];
    float h[4][3];  // G·g
    for (int b = 0; b < 3; ++b) {
      h[0][b] = g[0][b];
      h[1][b] = 0.5f * (g[0][b] + g[1][b] + g[2][b]);
      h[2][b] = 0.5f * (g[0][b] - g[1][b] + g[2][b]);
      h[3][b] = g[2][b];
    }
    for (int r = 0; r < 4; ++r) {  // (G·g)·Gᵀ
      const float u[4] = {h[r][0], 0.5f * (h[r][0] + h[r][1] + h[r][2]), 0.5f * (h[r][0] - h[r][1] + h[r][2]), h[r][2]};
      for (int s = 0; s < 4; ++s) U[((4 * r + s) * out_ + o) * in_ + i] = u[s];
    }
  }
}

// V (16, in, ld) columns [0, T): each channel's plane copied into the zero-padded `plane`, then
// Bᵀ·d·B of every tile's 4x4 patch d.
void Winograd23::input_transform(const float* x, float* V, Index ld, float* plane) const {
  std::fill(plane, plane + PH_ * PW_ + 32, 0.0f);
  const Index r0 = std::max<Index>(0, top_), r1 = std::min(PH_, top_ + IH_);
  const Index q0 = std::max<Index>(0, left_), q1 = std::min(PW_, left_ + IW_);
  const Index stride = in_ * ld;
  for (Index c = 0; c < in_; ++c) {
    const float* src = x + c * IH_ * IW_;
    for (Index r = r0; r < r1; ++r) {  // (a loop: a library call per row of 14 cost more than the copy)
      const float* from = src + (r - top_) * IW_;
      float* to = plane + r * PW_;
      for (Index q = q0; q < q1; ++q) to[q] = from[q - left_];
    }
    float* v = V + c * ld;
#if defined(__AVX512F__)
    // One or two tile rows at a time, their tiles in the lanes (pair_): the same operations, in
    // the same order, as the loop below.
    if (PW_ <= 32) {
      const Index step = pair_ ? 2 : 1;
      for (Index ti = 0; ti < TH_; ti += step) {
        const Index rows = std::min(step, TH_ - ti);
        __m512 w[4][4];
        for (int a = 0; a < 4; ++a) {
          const float* row = plane + (2 * ti + a) * PW_;
          const __m512 lo = _mm512_loadu_ps(row);
          const __m512 hi = _mm512_loadu_ps(pair_ ? (rows == 2 ? row + 2 * PW_ : row) : row + 16);
          __m512 d[4];
          for (int k = 0; k < 4; ++k) d[k] = _mm512_permutex2var_ps(lo, _mm512_loadu_si512(pick_[k]), hi);
          w[a][0] = _mm512_sub_ps(d[0], d[2]);
          w[a][1] = _mm512_add_ps(d[1], d[2]);
          w[a][2] = _mm512_sub_ps(d[2], d[1]);
          w[a][3] = _mm512_sub_ps(d[1], d[3]);
        }
        const __mmask16 m = lanes(rows * TW_);
        float* out = v + ti * TW_;
        for (int k = 0; k < 4; ++k) {
          _mm512_mask_storeu_ps(out + (0 + k) * stride, m, _mm512_sub_ps(w[0][k], w[2][k]));
          _mm512_mask_storeu_ps(out + (4 + k) * stride, m, _mm512_add_ps(w[1][k], w[2][k]));
          _mm512_mask_storeu_ps(out + (8 + k) * stride, m, _mm512_sub_ps(w[2][k], w[1][k]));
          _mm512_mask_storeu_ps(out + (12 + k) * stride, m, _mm512_sub_ps(w[1][k], w[3][k]));
        }
      }
      continue;
    }
#endif
    for (Index ti = 0; ti < TH_; ++ti)
      for (Index tj = 0; tj < TW_; ++tj) {
        const float* d0 = plane + 2 * ti * PW_ + 2 * tj;
        float w[4][4];  // d·B, row by row
        for (int a = 0; a < 4; ++a) {
          const float* d = d0 + a * PW_;
          w[a][0] = d[0] - d[2];
          w[a][1] = d[1] + d[2];
          w[a][2] = d[2] - d[1];
          w[a][3] = d[1] - d[3];
        }
        float* out = v + ti * TW_ + tj;
        for (int k = 0; k < 4; ++k) {  // Bᵀ·(d·B)
          out[(0 + k) * stride] = w[0][k] - w[2][k];
          out[(4 + k) * stride] = w[1][k] + w[2][k];
          out[(8 + k) * stride] = w[2][k] - w[1][k];
          out[(12 + k) * stride] = w[1][k] - w[3][k];
        }
      }
  }
}

// y from M (16, out, ld) columns [0, T): Aᵀ·m·A of every tile, the outputs past the planes'
// edge dropped.
void Winograd23::output_transform(const float* M, Index ld, const float* bias, float* y) const {
  const Index stride = out_ * ld;
  for (Index o = 0; o < out_; ++o) {
    const float* m0 = M + o * ld;
    float* yo = y + o * OH_ * OW_;
    const float b = bias != nullptr ? bias[o] : 0.0f;
#if defined(__AVX512F__)
    if (PW_ <= 32) {
      const __m512 bv = _mm512_set1_ps(b);
      const __m512i zip0 = _mm512_loadu_si512(zip_[0]), zip1 = _mm512_loadu_si512(zip_[1]);
      const Index step = pair_ ? 2 : 1;
      for (Index ti = 0; ti < TH_; ti += step) {
        const Index rows = std::min(step, TH_ - ti);
        const __mmask16 m = lanes(rows * TW_);
        const float* mt = m0 + ti * TW_;
        __m512 s[2][4];
        for (int k = 0; k < 4; ++k) {
          const __m512 a0 = _mm512_maskz_loadu_ps(m, mt + k * stride),
                       a1 = _mm512_maskz_loadu_ps(m, mt + (4 + k) * stride),
                       a2 = _mm512_maskz_loadu_ps(m, mt + (8 + k) * stride),
                       a3 = _mm512_maskz_loadu_ps(m, mt + (12 + k) * stride);
          s[0][k] = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
          s[1][k] = _mm512_sub_ps(_mm512_sub_ps(a1, a2), a3);
        }
        for (int a = 0; a < 2; ++a) {
          const __m512 left = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[a][0], s[a][1]), s[a][2]), bv);
          const __m512 right = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[a][1], s[a][2]), s[a][3]), bv);
          const __m512 first = _mm512_permutex2var_ps(left, zip0, right),
                       second = _mm512_permutex2var_ps(left, zip1, right);
          const Index oh = 2 * ti + a;
          if (oh >= OH_) break;
          if (pair_) {  // tile row ti's outputs, then ti + 1's
            _mm512_mask_storeu_ps(yo + oh * OW_, lanes(OW_), first);
            if (rows == 2 && oh + 2 < OH_) _mm512_mask_storeu_ps(yo + (oh + 2) * OW_, lanes(OW_), second);
          } else {  // one row of up to 32 outputs
            _mm512_mask_storeu_ps(yo + oh * OW_, lanes(OW_), first);
            if (OW_ > 16) _mm512_mask_storeu_ps(yo + oh * OW_ + 16, lanes(OW_ - 16), second);
          }
        }
      }
      continue;
    }
#endif
    for (Index ti = 0; ti < TH_; ++ti)
      for (Index tj = 0; tj < TW_; ++tj) {
        const float* m = m0 + ti * TW_ + tj;
        float s[2][4];  // Aᵀ·m
        for (int k = 0; k < 4; ++k) {
          const float a0 = m[k * stride], a1 = m[(4 + k) * stride], a2 = m[(8 + k) * stride], a3 = m[(12 + k) * stride];
          s[0][k] = a0 + a1 + a2;
          s[1][k] = a1 - a2 - a3;
        }
        const Index oh = 2 * ti, ow = 2 * tj;
        for (int a = 0; a < 2 && oh + a < OH_; ++a) {
          float* row = yo + (oh + a) * OW_ + ow;
          row[0] = s[a][0] + s[a][1] + s[a][2] + b;
          if (ow + 1 < OW_) row[1] = s[a][1] - s[a][2] - s[a][3] + b;
        }
      }
  }
}

// dMt (16, T, out) = A·dy·Aᵀ of every output tile, dy read from its transpose dyt (OH·OW, out)
// (zero past the planes' edges), so each step runs along out.
void Winograd23::output_grad_transform(const float* dyt, float* dMt, const float* zeros) const {
  const Index stride = T_ * out_;
  auto at = [&](Index oh, Index ow) { return oh < OH_ && ow < OW_ ? dyt + (oh * OW_ + ow) * out_ : zeros; };
  for (Index ti = 0; ti < TH_; ++ti)
    for (Index tj = 0; tj < TW_; ++tj) {
      const Index oh = 2 * ti, ow = 2 * tj;
      const float *p = at(oh, ow), *q = at(oh, ow + 1), *r = at(oh + 1, ow), *s = at(oh + 1, ow + 1);
      float* d = dMt + (ti * TW_ + tj) * out_;
      // (the 16 rows written never overlap the 4 read: vectorised along out)
#pragma GCC ivdep
      for (Index o = 0; o < out_; ++o) {
        // A·dy: rows (p, q), (p + r, q + s), (p − r, q − s), (−r, −s); then each row (u, v) · Aᵀ:
        // (u, u + v, u − v, −v)
        const float u[4] = {p[o], p[o] + r[o], p[o] - r[o], -r[o]};
        const float v[4] = {q[o], q[o] + s[o], q[o] - s[o], -s[o]};
        for (int k = 0; k < 4; ++k) {
          d[(4 * k + 0) * stride + o] = u[k];
          d[(4 * k + 1) * stride + o] = u[k] + v[k];
          d[(4 * k + 2) * stride + o] = u[k] - v[k];
          d[(4 * k + 3) * stride + o] = -v[k];
        }
      }
    }
}

void Winograd23::weight_grad(const float* x, const float* dyt, float* dUt, bool accumulate, float* scratch) const {
  float* V = scratch;                     // (16, in, T)
  float* dMt = V + 16 * in_ * T_;         // (16, T, out)
  float* plane = dMt + 16 * out_ * T_;    // PH·PW + 32
  float* zeros = plane + PH_ * PW_ + 32;  // (out)
  std::fill(zeros, zeros + out_, 0.0f);
  input_transform(x, V, T_, plane);
  output_grad_transform(dyt, dMt, zeros);
  for (Index xi = 0; xi < 16; ++xi)
    gemm_detail::sgemm(false, false, in_, out_, T_, V + xi * in_ * T_, T_, dMt + xi * T_ * out_, out_,
                       accumulate ? 1.0f : 0.0f, dUt + xi * in_ * out_, out_);
}

void Winograd23::add_filter_grad(const float* dUt, float* dw) const {
  for (Index o = 0; o < out_; ++o)
    for (Index i = 0; i < in_; ++i) {
      float t[3][4];  // Gᵀ·dU
      for (int s = 0; s < 4; ++s) {
        const float d0 = dUt[((0 + s) * in_ + i) * out_ + o], d1 = dUt[((4 + s) * in_ + i) * out_ + o],
                    d2 = dUt[((8 + s) * in_ + i) * out_ + o], d3 = dUt[((12 + s) * in_ + i) * out_ + o];
        t[0][s] = d0 + 0.5f * (d1 + d2);
        t[1][s] = 0.5f * (d1 - d2);
        t[2][s] = 0.5f * (d1 + d2) + d3;
      }
      float* g = dw + (o * in_ + i) * 9;
      for (int a = 0; a < 3; ++a) {  // (Gᵀ·dU)·G
        g[3 * a + 0] += t[a][0] + 0.5f * (t[a][1] + t[a][2]);
        g[3 * a + 1] += 0.5f * (t[a][1] - t[a][2]);
        g[3 * a + 2] += 0.5f * (t[a][1] + t[a][2]) + t[a][3];
      }
    }
}

void Winograd23::run(const float* U, const float* x, Index x_stride, const float* bias, float* y, Index y_stride,
                     Index count, float* scratch) const {
  const Index L = count * T_;        // the samples' tiles side by side
  float* V = scratch;                // (16, in, L)
  float* M = V + 16 * in_ * L;       // (16, out, L)
  float* plane = M + 16 * out_ * L;  // PH·PW, and 32 more: the vector path loads rows of 32
  for (Index g = 0; g < count; ++g) input_transform(x + g * x_stride, V + g * T_, L, plane);
  for (Index xi = 0; xi < 16; ++xi)
    gemm_detail::sgemm(false, false, out_, L, in_, U + xi * out_ * in_, in_, V + xi * in_ * L, L, 0.0f,
                       M + xi * out_ * L, L);
  for (Index g = 0; g < count; ++g) output_transform(M + g * T_, L, bias, y + g * y_stride);
}

}  // namespace nettrain
