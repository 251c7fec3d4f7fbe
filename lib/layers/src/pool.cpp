// Max and average pooling; formulas and shapes in pool.h.
#include "pool.h"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>

#include "batchnorm.h"

#if defined(__AVX512F__) && defined(__AVX512VL__)
#include <immintrin.h>
#endif

namespace nettrain {

namespace {

Window read_pool_window(const ConfigNode& node) {
  check_layer_keys(node, {"kernel", "stride", "padding"});
  Window w = Window::read(node, 2, true, false);
  if (w.ph >= w.kh || w.pw >= w.kw)
    node.fail("padding", "padding " + std::to_string(w.ph) + "x" + std::to_string(w.pw) +
                             " must be smaller than the kernel " + std::to_string(w.kh) + "x" + std::to_string(w.kw));
  return w;
}

// The input rows [lo, hi) under output row oh, and the columns under output column ow, without
// the padding.
struct Span {
  Index lo, hi;
};
Span rows_under(const Window& w, Index oh) {
  const Index h0 = oh * w.sh - w.top;
  return {std::max<Index>(h0, 0), std::min(h0 + w.kh, w.H)};
}
Span cols_under(const Window& w, Index ow) {
  const Index w0 = ow * w.sw - w.left;
  return {std::max<Index>(w0, 0), std::min(w0 + w.kw, w.W)};
}

// relu as the relu layer computes it (Eigen's cwiseMax(0)): −0 and NaN pass unchanged.
inline float relu_of_cell(float x) { return x < 0.0f ? 0.0f : x; }

// A window's max of relu(x), from its max m of x and its first cell x0: m where m > 0, else the
// relu of the first cell (max over the window's relu zeros keeps the first; relu keeps −0).
inline float relu_of_pooled(float m, float x0) { return m > 0.0f ? m : relu_of_cell(x0); }

// Whether the 2x2 pool's gradient passes to the cell it picked (value x) when the relu is taken
// in. The two layers apart: the pool routes dy to the first cell whose relu equals y (to the
// last cell when y is NaN, which equals nothing), then relu passes it where x > 0. Taken in, the
// pool compares x itself with y, which picks the same cell when y > 0 and may pick another when
// y <= 0 (where the two layers pass nothing) or is NaN (where both pick the last cell).
inline bool relu_passes(float y, float x) { return !(y <= 0.0f) && x > 0.0f; }

// Whether the 2x2 pool's train-mode forward keeps backward's routing (Pool2d::route_).
#if defined(__AVX512F__) && defined(__AVX512VL__)
constexpr bool kKeepsRoute = true;
#else
constexpr bool kKeepsRoute = false;

// The common 2x2 stride-2 max-pool without padding, in builds without AVX-512: nothing is kept
// for backward, which finds each window's first maximum again as the first cell equal to the
// window's output. A branch-free max that vectorises (sizes copied to locals, pointers marked
// restrict). With `relu`, the pool of relu(x) (the relu taken in, pool.h).
void max_pool_2x2(const Window& w, const float* __restrict x, float* __restrict y, bool relu) {
  const Index C = w.C, H = w.H, W = w.W, OH = w.OH, OW = w.OW;
  for (Index c = 0; c < C; ++c)
    for (Index oh = 0; oh < OH; ++oh) {
      const float* __restrict r0 = x + (c * H + 2 * oh) * W;
      const float* __restrict r1 = r0 + W;
      float* __restrict out = y + (c * OH + oh) * OW;
      for (Index ow = 0; ow < OW; ++ow)
        out[ow] = std::max(std::max(r0[2 * ow], r0[2 * ow + 1]), std::max(r1[2 * ow], r1[2 * ow + 1]));
      if (relu)
        for (Index ow = 0; ow < OW; ++ow) out[ow] = relu_of_pooled(out[ow], r0[2 * ow]);
    }
}
#endif

#if defined(__AVX512F__) && defined(__AVX512VL__)
// The 2x2 pool's routing with AVX-512, made in forward and kept for backward (a 16-bit mask per
// input row of 8 windows, 1/16 of the input's bytes, where backward would otherwise read the
// whole input again from memory). For 8 windows of one output row: their 16 input columns of
// each row compared with the window's max (duplicated to both columns), the first maximum
// picked with mask arithmetic (bit 2k and 2k+1 are window k's left and right cell). With `relu`,
// only the cells that relu_passes lets dy through (both masks made for 16 cells at once).
struct RowMasks {
  std::uint16_t top, bottom;
};

const __m512i kTwice = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);

// The masks of n ≤ 8 windows from their input rows r0, r1 (16 columns, the first 2n loaded) and
// their outputs y (the low n lanes).
RowMasks first_max_masks(Index n, __m512 r0, __m512 r1, __m256 y, bool relu) {
  constexpr unsigned kLeft = 0x5555u, kRight = 0xAAAAu;
  const auto in_mask = static_cast<__mmask16>((1u << (2 * n)) - 1u);
  const __m512 m = _mm512_permutexvar_ps(kTwice, _mm512_castps256_ps512(y));
  const unsigned e0 = _mm512_cmp_ps_mask(r0, m, _CMP_EQ_OQ);
  const unsigned e1 = _mm512_cmp_ps_mask(r1, m, _CMP_EQ_OQ);
  const unsigned a = e0 & kLeft;                                     // top left
  const unsigned b = e0 & kRight & ~(a << 1);                        // top right
  const unsigned top = a | b, top_any = (top | (top >> 1)) & kLeft;  // window has its max on top
  const unsigned c = e1 & kLeft & ~top_any;                          // bottom left
  const unsigned d = kRight & ~((top_any | c) << 1);                 // bottom right: the rest
  unsigned pass0 = 0xFFFFu, pass1 = 0xFFFFu;
  if (relu) {  // relu_passes: the window's y not <= 0 (NaN passes) and the cell's x > 0
    const __m512 zero = _mm512_setzero_ps();
    const unsigned window = _mm512_cmp_ps_mask(m, zero, _CMP_NLE_UQ);
    pass0 = window & _mm512_cmp_ps_mask(r0, zero, _CMP_GT_OQ);
    pass1 = window & _mm512_cmp_ps_mask(r1, zero, _CMP_GT_OQ);
  }
  return {static_cast<std::uint16_t>(top & pass0 & in_mask), static_cast<std::uint16_t>((c | d) & pass1 & in_mask)};
}

RowMasks first_max_masks(Index n, const float* x0, const float* x1, const float* y, bool relu) {
  const auto in_mask = static_cast<__mmask16>((1u << (2 * n)) - 1u);
  return first_max_masks(n, _mm512_maskz_loadu_ps(in_mask, x0), _mm512_maskz_loadu_ps(in_mask, x1),
                         _mm256_maskz_loadu_ps(static_cast<__mmask8>((1u << n) - 1u), y), relu);
}

// The 2x2 pool's forward with AVX-512, one sample, and with `masks` (not null) its routing in
// the same pass over x: 8 windows at a time, their cells split into left and right columns by
// permutes, maxed as the scalar version does (_mm512_max_ps(q, p) is std::max(p, q), NaN and
// signed zeros included), the relu taken in as relu_of_pooled. The same bits as max_pool_2x2.
const __m512i kEven = _mm512_set_epi32(15, 13, 11, 9, 7, 5, 3, 1, 14, 12, 10, 8, 6, 4, 2, 0);
const __m512i kOdd = _mm512_set_epi32(14, 12, 10, 8, 6, 4, 2, 0, 15, 13, 11, 9, 7, 5, 3, 1);

void max_pool_2x2_avx512(const Window& w, const float* x, float* y, bool relu, std::uint16_t* masks) {
  const Index H = w.H, W = w.W, OH = w.OH, OW = w.OW;
  const __m256 zero = _mm256_setzero_ps();
  // 16 cells from p, whole where they lie in the sample (the lanes past the 2n cells are never
  // used), masked at its end. A whole load here, not a masked one: the masked loads ran ~3x
  // slower on AMD Zen 5, apparently waiting on memory the stream prefetch had not brought.
  const float* end = x + w.C * H * W;
  auto load_cells = [end](const float* p, __mmask16 m) {
    return end - p >= 16 ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
  };
  for (Index c = 0; c < w.C; ++c)
    for (Index oh = 0; oh < OH; ++oh) {
      const float* x0 = x + (c * H + 2 * oh) * W;
      const float* x1 = x0 + W;
      float* out = y + (c * OH + oh) * OW;
      for (Index g = 0; g < OW; g += 8) {
        const Index n = std::min<Index>(8, OW - g);
        const auto in_mask = static_cast<__mmask16>((1u << (2 * n)) - 1u);
        const __m512 r0 = load_cells(x0 + 2 * g, in_mask), r1 = load_cells(x1 + 2 * g, in_mask);
        auto half = [](__m512i idx, __m512 v) { return _mm512_castps512_ps256(_mm512_permutexvar_ps(idx, v)); };
        const __m256 a = half(kEven, r0), b = half(kOdd, r0), cc = half(kEven, r1), d = half(kOdd, r1);
        __m256 m = _mm256_max_ps(_mm256_max_ps(d, cc), _mm256_max_ps(b, a));
        if (relu) {  // relu_of_pooled(m, a): m where m > 0, else a where a is not < 0, else 0
          const __m256 first = _mm256_mask_mov_ps(a, _mm256_cmp_ps_mask(a, zero, _CMP_LT_OQ), zero);
          m = _mm256_mask_mov_ps(first, _mm256_cmp_ps_mask(m, zero, _CMP_GT_OQ), m);
        }
        _mm256_mask_storeu_ps(out + g, static_cast<__mmask8>((1u << n) - 1u), m);
        if (masks != nullptr) {
          const RowMasks r = first_max_masks(n, r0, r1, m, relu);
          masks[0] = r.top;
          masks[1] = r.bottom;
          masks += 2;
        }
      }
    }
}

// One sample's masks from its input x and pooled output y: for each channel and output row,
// ceil(OW / 8) groups of two (top, bottom): a row of Pool2d::route_.
void max_pool_2x2_masks(const Window& w, const float* x, const float* y, bool relu, std::uint16_t* masks) {
  const Index H = w.H, W = w.W, OH = w.OH, OW = w.OW;
  for (Index c = 0; c < w.C; ++c)
    for (Index oh = 0; oh < OH; ++oh) {
      const Index top = (c * H + 2 * oh) * W, o = (c * OH + oh) * OW;
      for (Index g = 0; g < OW; g += 8, masks += 2) {
        const RowMasks r =
            first_max_masks(std::min<Index>(8, OW - g), x + top + 2 * g, x + top + W + 2 * g, y + o + g, relu);
        masks[0] = r.top;
        masks[1] = r.bottom;
      }
    }
}

// Its backward, one sample: every cell of dx written, dy at the cells the masks name and +0
// elsewhere (an odd last row or column, under no window, included).
void max_pool_2x2_backward(const Window& w, const std::uint16_t* masks, const float* __restrict dy,
                           float* __restrict dx) {
  const Index C = w.C, H = w.H, W = w.W, OH = w.OH, OW = w.OW;
  // Whole loads and stores where they can be (masked ones are slower here, see
  // max_pool_2x2_avx512): dy's 8 values whole unless they would pass the sample's end, dx's 16
  // cells whole for a full group of 8 windows.
  const float* dy_end = dy + C * OH * OW;
  for (Index c = 0; c < C; ++c) {
    for (Index oh = 0; oh < OH; ++oh) {
      const Index top = (c * H + 2 * oh) * W, o = (c * OH + oh) * OW;
      for (Index g = 0; g < OW; g += 8, masks += 2) {
        const auto n = static_cast<unsigned>(std::min<Index>(8, OW - g));
        const float* d = dy + o + g;
        const __m256 d8 =
            dy_end - d >= 8 ? _mm256_loadu_ps(d) : _mm256_maskz_loadu_ps(static_cast<__mmask8>((1u << n) - 1u), d);
        const __m512 gd = _mm512_permutexvar_ps(kTwice, _mm512_castps256_ps512(d8));
        const __m512 g0 = _mm512_maskz_mov_ps(masks[0], gd), g1 = _mm512_maskz_mov_ps(masks[1], gd);
        if (n == 8) {
          _mm512_storeu_ps(dx + top + 2 * g, g0);
          _mm512_storeu_ps(dx + top + W + 2 * g, g1);
        } else {
          const auto in_mask = static_cast<__mmask16>((1u << (2 * n)) - 1u);
          _mm512_mask_storeu_ps(dx + top + 2 * g, in_mask, g0);
          _mm512_mask_storeu_ps(dx + top + W + 2 * g, in_mask, g1);
        }
      }
      if (W > 2 * OW) dx[top + W - 1] = dx[top + 2 * W - 1] = 0.0f;
    }
    if (H > 2 * OH) std::fill(dx + (c * H + H - 1) * W, dx + (c + 1) * H * W, 0.0f);
  }
}
#else
// Its backward, one sample: dx zero but for dy at each window's first maximum in row-major
// order; an odd last row or column, under no window, stays zero. The cell's offset is computed
// without branches (rows of 7 or 14 windows are too short to vectorise, and branches on the data
// would be mispredicted).
void max_pool_2x2_backward(const Window& w, const float* __restrict x, const float* __restrict y,
                           const float* __restrict dy, float* __restrict dx, bool relu) {
  const Index C = w.C, H = w.H, W = w.W, OH = w.OH, OW = w.OW;
  const std::array<Index, 4> offset{0, 1, W, W + 1};
  std::fill(dx, dx + C * H * W, 0.0f);
  for (Index c = 0; c < C; ++c)
    for (Index oh = 0; oh < OH; ++oh) {
      const Index top = (c * H + 2 * oh) * W, o = (c * OH + oh) * OW;
      const float* __restrict x0 = x + top;
      const float* __restrict x1 = x0 + W;
      for (Index ow = 0; ow < OW; ++ow) {
        const float m = y[o + ow];
        const int not_a = x0[2 * ow] != m, not_b = x0[2 * ow + 1] != m, not_c = x1[2 * ow] != m;
        const int k = not_a * (1 + not_b * (1 + not_c));  // 0 at a, else 1 at b, else 2 at c, else 3
        const Index at = top + 2 * ow + offset[static_cast<std::size_t>(k)];
        dx[at] = relu && !relu_passes(m, x[at]) ? 0.0f : dy[o + ow];
      }
    }
}
#endif

}  // namespace

std::unique_ptr<Layer> Pool2d::create_max(const ConfigNode& node) {
  return std::make_unique<Pool2d>(true, read_pool_window(node));
}

std::unique_ptr<Layer> Pool2d::create_avg(const ConfigNode& node) {
  return std::make_unique<Pool2d>(false, read_pool_window(node));
}

Shape Pool2d::build(const std::vector<Shape>& inputs) {
  require_inputs(inputs, 1);
  win_.resolve(inputs[0]);
  return Shape{win_.C, win_.OH, win_.OW};
}

bool Pool2d::is_2x2() const {
  const Window& w = win_;
  return max_ && w.kh == 2 && w.kw == 2 && w.sh == 2 && w.sw == 2 && w.top == 0 && w.left == 0;
}

bool Pool2d::fuse_batchnorm_input(Layer& batchnorm) {
  if (!kKeepsRoute || !is_2x2()) return false;
  bn_ = dynamic_cast<BatchNorm*>(&batchnorm);
  return bn_ != nullptr;
}

#if defined(__AVX512F__) && defined(__AVX512VL__)
// The batchnorm runs its passes channel by channel; each (sample, channel) segment of its output
// is pooled as one plane (a window of one channel) straight from its scratch.
void Pool2d::forward_through_batchnorm(const Matrix& in, Matrix& y, const Context& ctx) {
  Window plane = win_;
  plane.C = 1;
  const Index P = win_.OH * win_.OW, plane_masks = route_width() / win_.C;
  if (route_.rows() != in.rows()) route_.resize(in.rows(), route_width());
  bn_->forward_segments(in, ctx, [&](Index r, Index c, const float* segment) {
    max_pool_2x2_avx512(plane, segment, y.row(r).data() + c * P, relu_, route_.row(r).data() + c * plane_masks);
  });
  route_valid_ = true;
}

// The batchnorm asks for its dy segment by segment: each is one plane of the pool's dx.
void Pool2d::backward_through_batchnorm(const Matrix& in, const Matrix& dy, Matrix* dx) {
  if (!route_valid_ || route_.rows() != dy.rows()) throw std::logic_error("Pool2d::backward before its forward");
  Window plane = win_;
  plane.C = 1;
  const Index P = win_.OH * win_.OW, plane_masks = route_width() / win_.C;
  bn_->backward_segments(
      in,
      [&](Index r, Index c, float* segment) {
        max_pool_2x2_backward(plane, route_.row(r).data() + c * plane_masks, dy.row(r).data() + c * P, segment);
      },
      dx);
}
#else
void Pool2d::forward_through_batchnorm(const Matrix&, Matrix&, const Context&) {
  throw std::logic_error("Pool2d: a batchnorm taken in without AVX-512");
}
void Pool2d::backward_through_batchnorm(const Matrix&, const Matrix&, Matrix*) {
  throw std::logic_error("Pool2d: a batchnorm taken in without AVX-512");
}
#endif

void Pool2d::forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) {
  const Window& w = win_;
  const Matrix& in = *x[0];
  const Index N = in.rows(), P = w.OH * w.OW;
  ensure_size(y, N, w.C * P);
  const float inv_area = 1.0f / static_cast<float>(w.kh * w.kw);
  if (bn_ != nullptr) {
    forward_through_batchnorm(in, y, ctx);
    return;
  }
  if (is_2x2()) {
    // AVX-512 builds keep the routing in train mode, made in the same pass over x as y.
    const bool route = kKeepsRoute && ctx.mode == Mode::train;
    if (route && route_.rows() != N) route_.resize(N, route_width());
    parallel_ranges(N, std::max<Index>(1, kElementwiseGrain / in.cols()), [&](Index n0, Index n1) {
      for (Index n = n0; n < n1; ++n) {
#if defined(__AVX512F__) && defined(__AVX512VL__)
        max_pool_2x2_avx512(w, in.row(n).data(), y.row(n).data(), relu_, route ? route_.row(n).data() : nullptr);
#else
        max_pool_2x2(w, in.row(n).data(), y.row(n).data(), relu_);
#endif
      }
    });
    route_valid_ = route;
    return;
  }
  if (max_ && (argmax_.rows() != N || argmax_.cols() != y.cols())) argmax_.resize(N, y.cols());
  // Samples are independent: fixed ranges of them over the pool.
  parallel_ranges(N, std::max<Index>(1, kElementwiseGrain / in.cols()), [&](Index n0, Index n1) {
    for (Index n = n0; n < n1; ++n) {
      const float* xr = in.row(n).data();
      float* yr = y.row(n).data();
      std::int32_t* ar = max_ ? argmax_.row(n).data() : nullptr;
      for (Index c = 0; c < w.C; ++c) {
        for (Index oh = 0; oh < w.OH; ++oh) {
          const auto [h_lo, h_hi] = rows_under(w, oh);
          for (Index ow = 0; ow < w.OW; ++ow) {
            const auto [w_lo, w_hi] = cols_under(w, ow);
            const Index out = (c * w.OH + oh) * w.OW + ow;
            if (max_) {
              // With the relu taken in, the window's cells are compared as the relu layer gives
              // them (relu_of_cell), so NaN and −0 cells pick what the two layers would.
              float best = -std::numeric_limits<float>::infinity();
              Index best_at = (c * w.H + h_lo) * w.W + w_lo;
              for (Index h = h_lo; h < h_hi; ++h)
                for (Index v = w_lo; v < w_hi; ++v) {
                  const Index at = (c * w.H + h) * w.W + v;
                  const float cell = relu_ ? relu_of_cell(xr[at]) : xr[at];
                  if (cell > best) {  // strict: the first maximum wins ties
                    best = cell;
                    best_at = at;
                  }
                }
              yr[out] = best;
              ar[out] = static_cast<std::int32_t>(best_at);
            } else {
              float sum = 0.0f;
              for (Index h = h_lo; h < h_hi; ++h)
                for (Index v = w_lo; v < w_hi; ++v) sum += xr[(c * w.H + h) * w.W + v];
              yr[out] = sum * inv_area;
            }
          }
        }
      }
    }
  });
}

void Pool2d::backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                      std::span<Matrix* const> dx) {
  if (bn_ != nullptr) {  // the batchnorm's gradients are due even when dx is not
    backward_through_batchnorm(*x[0], dy, dx[0]);
    return;
  }
  if (dx[0] == nullptr) return;
  const Window& w = win_;
  const Index N = dy.rows();
  ensure_size(*dx[0], N, w.C * w.H * w.W);
  const float inv_area = 1.0f / static_cast<float>(w.kh * w.kw);
  const bool fast = is_2x2();
#if defined(__AVX512F__) && defined(__AVX512VL__)
  if (fast && (!route_valid_ || route_.rows() != N)) {  // no train-mode forward of this batch
    route_.resize(N, route_width());
    parallel_ranges(N, std::max<Index>(1, kElementwiseGrain / x[0]->cols()), [&](Index n0, Index n1) {
      for (Index n = n0; n < n1; ++n)
        max_pool_2x2_masks(w, x[0]->row(n).data(), y.row(n).data(), relu_, route_.row(n).data());
    });
  }
#endif
  parallel_ranges(N, std::max<Index>(1, kElementwiseGrain / dx[0]->cols()), [&](Index n0, Index n1) {
    for (Index n = n0; n < n1; ++n) {
      if (fast) {
#if defined(__AVX512F__) && defined(__AVX512VL__)
        max_pool_2x2_backward(w, route_.row(n).data(), dy.row(n).data(), dx[0]->row(n).data());
#else
        max_pool_2x2_backward(w, x[0]->row(n).data(), y.row(n).data(), dy.row(n).data(), dx[0]->row(n).data(), relu_);
#endif
        continue;
      }
      const float* dyr = dy.row(n).data();
      float* dxr = dx[0]->row(n).data();
      std::fill(dxr, dxr + dx[0]->cols(), 0.0f);
      if (max_) {
        const std::int32_t* ar = argmax_.row(n).data();
        const float* yr = y.row(n).data();
        for (Index k = 0; k < dy.cols(); ++k) dxr[ar[k]] += relu_ && !(yr[k] > 0.0f) ? 0.0f : dyr[k];
        continue;
      }
      for (Index c = 0; c < w.C; ++c)
        for (Index oh = 0; oh < w.OH; ++oh) {
          const auto [h_lo, h_hi] = rows_under(w, oh);
          for (Index ow = 0; ow < w.OW; ++ow) {
            const auto [w_lo, w_hi] = cols_under(w, ow);
            const float g = dyr[(c * w.OH + oh) * w.OW + ow] * inv_area;
            for (Index h = h_lo; h < h_hi; ++h)
              for (Index v = w_lo; v < w_hi; ++v) dxr[(c * w.H + h) * w.W + v] += g;
          }
        }
    }
  });
}

}  // namespace nettrain
