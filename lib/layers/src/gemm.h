// The matrix products of the affine and conv2d layers: OpenBLAS's sgemm (the pthread build,
// linked statically, its own threads never used) on fixed chunks of the result, spread over the
// cores by the pool (parallel.h), which stays the one owner of the cores. Chunk boundaries
// depend only on the shapes, so the result is the same bits for every thread count and every
// schedule.
//
// Measured on this machine (bench/results.md): OpenBLAS's kernel ran these shapes 10-30 % faster
// than Eigen's; the same chunks computed by OpenBLAS's own threads instead of the pool's were no
// faster over a whole epoch (W2 8 % slower, W3 7 % faster), and their idle spinning took cores
// from the pool. The serial OpenBLAS build is not safe to call from two threads at once (it gave
// different sums run to run); the pthread build is, with its thread count set to 1.
//
//   forward   y  = x·W      x (batch, in)  W (in, out)  y (batch, out)   chunks of y's columns or rows
//   backward  dW += xᵀ·dy  (or =)                         (in, out)        chunks of dW's rows
//             dx = dy·Wᵀ                                  (batch, in)      chunks of dx's columns
#pragma once

#include <cblas.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "nettrain/core/parallel.h"
#include "nettrain/core/tensor.h"
#include "small_gemm.h"

namespace nettrain::gemm_detail {

// A chunk gets at least this many multiply-adds (a fork-join costs a few microseconds, and a
// small product runs below the kernel's speed) and 64 entries along its axis; at most 2 chunks,
// one per core of the machine this is tuned on: OpenBLAS's AVX-512 kernel ran W3 (bench/)
// at 2.26 s per epoch with 2 chunks, 2.32 with 4 and 2.44 with 8, the smaller chunks paying in
// packing. 2^20 (from 2^22) splits W3's 1024-to-10 output layer too: its forward and backward
// ran ~2 % faster (bench/conv_bench, 10 alternating runs). The count depends on the shapes
// only, never on the thread count.
constexpr Index kMinChunkMacs = Index{1} << 20;
constexpr Index kMinChunkEntries = 64;
constexpr Index kMaxChunks = 2;
constexpr Index kAlign = 16;  // chunk edges at multiples of 16 floats (fewer lines shared by two chunks)

inline Index chunk_count(Index n, Index macs) {
  Index chunks = 1;
  while (chunks < kMaxChunks && macs / (2 * chunks) >= kMinChunkMacs && n / (2 * chunks) >= kMinChunkEntries)
    chunks *= 2;
  return chunks;
}

// [begin, end) of chunk c of n entries in `chunks` chunks, edges rounded to kAlign.
inline std::pair<Index, Index> chunk_range(Index n, Index chunks, Index c) {
  auto edge = [&](Index k) {
    if (k >= chunks) return n;
    const Index e = (n * k / chunks + kAlign / 2) / kAlign * kAlign;
    return std::min(e, n);
  };
  return {edge(c), edge(c + 1)};
}

// Which products LIBXSMM's JIT kernels take (by shape alone, so the bits do not depend on
// anything else). Its kernels do not block for the caches: measured here with
// bench/small_gemm_probe (one thread), they beat OpenBLAS by 15-80 % while B fits the
// second-level cache and the reduction is short, and lose up to 35 % beyond. x·W takes them
// when W's (k, n) part is at most 2^18 floats (1 MB); xᵀ·dy when the batch (k) is at most 128
// rows. Products with op(B) transposed (dy·Wᵀ) stay with OpenBLAS: this LIBXSMM has no kernel
// for them.
constexpr Index kSmallMaxB = Index{1} << 18;
constexpr Index kSmallMaxBatch = 128;

inline bool small_product(bool trans_a, bool trans_b, Index n, Index k) {
  if (trans_b) return false;
  return trans_a ? k <= kSmallMaxBatch : k * n <= kSmallMaxB;
}

// Rows of C a multiple of 2 KB apart share the first-level cache's sets, and OpenBLAS's kernel
// writes a tile of such rows at once: bench/gemm_probe ran W3's first product (256 x 1024 x 784,
// both halves at once) at 271 GFLOPS with C's rows 1024 floats apart and 312 with 1008;
// small_gemm_probe xᵀ·dy 1024 x 1024 x 256 at 163 against 195 for 1008. Such products (large
// enough that a copy of C is cheap beside them) write a scratch with rows kCPad floats longer,
// copied back: W3's step (conv_bench, 4 alternating runs) 10.10-10.29 -> 9.64-9.97 ms. Not when
// they add to C (beta 1): copying C in as well cost more than the padding gave (3 alternating
// runs: 9.12-9.83 ms padded, 9.00-9.16 not). Nor does an affine layer's weight gradient when it
// assigns C (WeightGradChunks in a sample-shard replica, sgemm's may_pad false): W3 with 2 shards,
// epochs of 2.17-2.27 s through the scratch, 2.13-2.23 straight (3 alternating runs).
constexpr Index kCPad = 16;
inline bool padded_c(Index m, Index n, Index k, Index ldc, float beta) {
  return beta == 0.0f && ldc % 512 == 0 && k >= 64 && m * n >= Index{1} << 14;
}

// C (m, n) = op(A)·op(B) + beta·C on the calling thread, row-major, with leading dimensions lda,
// ldb, ldc; op(A) is (m, k), op(B) is (k, n); beta is 0 or 1. Safe to call from several threads
// at once. may_pad false keeps the product out of the padded scratch (padded_c).
inline void sgemm(bool trans_a, bool trans_b, Index m, Index n, Index k, const float* A, Index lda, const float* B,
                  Index ldb, float beta, float* C, Index ldc, bool may_pad = true) {
  if (m == 0 || n == 0) return;
  if (k > 0 && small_product(trans_a, trans_b, n, k)) {
    if (const SmallKernel kernel = small_kernel(trans_a, m, n, k, lda, ldb, beta, ldc)) {
      kernel(B, A, C);
      return;
    }
  }
  // Also set by affine.cpp before OpenBLAS starts; this covers a process where that did not run.
  [[maybe_unused]] static const bool one_thread = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  auto i = [](Index v) { return static_cast<blasint>(v); };
  // OpenBLAS computes the same sums whatever ldc is: the padded scratch gives the same bits.
  const bool padded = may_pad && padded_c(m, n, k, ldc, beta);
  float* target = C;
  Index ld = ldc;
  if (padded) {
    thread_local std::vector<float> scratch;
    ld = n + kCPad;
    if (scratch.size() < static_cast<std::size_t>(m * ld)) scratch.resize(static_cast<std::size_t>(m * ld));
    target = scratch.data();
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, i(m), i(n), i(k),
              1.0f, A, i(lda), B, i(ldb), beta, target, i(ld));
  if (padded)
    for (Index r = 0; r < m; ++r) std::copy(target + r * ld, target + r * ld + n, C + r * ldc);
}

// The pass a chunk of y = x·W gets while it is in cache: the bias b added (null: none), then,
// with relu, max(·, 0) — the expressions the separate passes use, so the same bits as running
// them afterwards over the whole of y.
template <class Block>
void finish_forward_block(Block&& block, const float* b, bool relu) {
  if (b != nullptr && relu) {
    block = (block.rowwise() + ConstRowVectorMap(b, block.cols())).cwiseMax(0.0f);
  } else if (b != nullptr) {
    block.rowwise() += ConstRowVectorMap(b, block.cols());
  } else if (relu) {
    block = block.cwiseMax(0.0f);
  }
}

// y = x·W (y already sized (batch, out)) in chunks of y's columns, or of its rows (samples) when
// the layer is narrower than the batch; each chunk gets finish_forward_block (bias b, relu).
struct ForwardChunks {
  const Matrix& x;
  const float* W;
  const float* b;
  bool relu;
  Index in, out;
  Matrix& y;
  bool by_columns = out >= x.rows();
  Index count = chunk_count(by_columns ? out : x.rows(), x.rows() * in * out);

  void run(Index c) const {
    const Index batch = x.rows();
    if (by_columns) {
      const auto [c0, c1] = chunk_range(out, count, c);
      sgemm(false, false, batch, c1 - c0, in, x.data(), in, W + c0, out, 0.0f, y.data() + c0, out);
      finish_forward_block(y.middleCols(c0, c1 - c0), b == nullptr ? nullptr : b + c0, relu);
      return;
    }
    const auto [r0, r1] = chunk_range(batch, count, c);
    sgemm(false, false, r1 - r0, out, in, x.data() + r0 * in, in, W, out, 0.0f, y.data() + r0 * out, out);
    finish_forward_block(y.middleRows(r0, r1 - r0), b, relu);
  }
};

// Rows [r0, r0 + rows) of y = x·W, in chunks of y's columns.
inline void forward_rows(const Matrix& x, Index r0, Index rows, const float* W, Index in, Index out, Matrix& y) {
  const Index chunks = chunk_count(out, rows * in * out);
  parallel_for_chunks(chunks, [&](Index c) {
    const auto [c0, c1] = chunk_range(out, chunks, c);
    sgemm(false, false, rows, c1 - c0, in, x.data() + r0 * in, in, W + c0, out, 0.0f, y.data() + r0 * out + c0, out);
  });
}

// Rows [r0, r0 + rows) of dx = dy·Wᵀ, in chunks of dx's columns.
inline void input_grad_rows(const Matrix& dy, Index r0, Index rows, const float* W, Index in, Index out, Matrix& dx) {
  const Index chunks = chunk_count(in, rows * in * out);
  parallel_for_chunks(chunks, [&](Index c) {
    const auto [c0, c1] = chunk_range(in, chunks, c);
    sgemm(false, true, rows, c1 - c0, out, dy.data() + r0 * out, out, W + c0 * out, out, 0.0f, dx.data() + r0 * in + c0,
          in);
  });
}

// dW += xᵀ·dy (beta 1) or dW = xᵀ·dy (beta 0) in chunks of dW's rows.
struct WeightGradChunks {
  const Matrix& x;
  const Matrix& dy;
  float* dW;
  Index in, out;
  float beta;  // 1: dW += xᵀ·dy; 0: dW = xᵀ·dy
  Index count = chunk_count(in, x.rows() * in * out);

  void run(Index c) const {
    const auto [r0, r1] = chunk_range(in, count, c);
    sgemm(true, false, r1 - r0, out, x.rows(), x.data() + r0, in, dy.data(), out, beta, dW + r0 * out, out, false);
  }
};

// dW = xᵀ·dy over rows [r0, r0 + rows) of the batch (a sample shard), ASSIGNED (beta 0).
inline void weight_grad_rows(const Matrix& x, const Matrix& dy, Index r0, Index rows, float* dW, Index in, Index out) {
  const Index chunks = chunk_count(in, rows * in * out);
  parallel_for_chunks(chunks, [&](Index c) {
    const auto [i0, i1] = chunk_range(in, chunks, c);
    sgemm(true, false, i1 - i0, out, rows, x.data() + r0 * in + i0, in, dy.data() + r0 * out, out, 0.0f, dW + i0 * out,
          out);
  });
}

// dx = dy·Wᵀ (dx already sized (batch, in)) in chunks of dx's columns.
struct InputGradChunks {
  const Matrix& dy;
  const float* W;
  Index in, out;
  Matrix& dx;
  Index count = chunk_count(in, dy.rows() * in * out);

  void run(Index c) const {
    const auto [c0, c1] = chunk_range(in, count, c);
    sgemm(false, true, dy.rows(), c1 - c0, out, dy.data(), out, W + c0 * out, out, 0.0f, dx.data() + c0, in);
  }
};

}  // namespace nettrain::gemm_detail
