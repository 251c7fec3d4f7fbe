// The three products of an affine layer, spread over the cores by splitting the result into
// fixed column (or row) chunks. Each chunk is one single-threaded Eigen product, computed by
// whichever thread of the pool (parallel.h) takes it: chunk boundaries depend only on the
// shapes, so the result is the same bits for every thread count and every schedule. Eigen's
// own parallel GEMM (OpenMP) is not used: its threads busy-wait on one another, which on this
// shared machine turned a 0.25 s epoch into 36 s.
//
//   forward   y  = x·W      x (batch, in)  W (in, out)  y (batch, out)   chunks of y's columns
//   backward  dW += xᵀ·dy                                 (in, out)        chunks of dW's rows
//             dx = dy·Wᵀ                                  (batch, in)      chunks of dx's columns
//
// The thread count is the pool's (set_num_threads, set by the app from --threads).
#pragma once

#include <algorithm>

#include "nettrain/parallel.h"
#include "nettrain/tensor.h"

namespace nettrain::gemm_detail {

// Below this many multiply-adds a product runs as one chunk: a fork-join costs more than it saves.
constexpr Index kMinParallelMacs = 1 << 20;
constexpr Index kAlign = 16;  // chunk edges on 64-byte lines: no two threads write one line

// Number of chunks for a product of `macs` multiply-adds whose split axis has `n` entries.
inline Index chunk_count(Index n, Index macs) {
  if (macs < kMinParallelMacs || n < 2 * 64) return 1;
  return std::min<Index>(8, n / 64);
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

template <typename Body>
void for_chunks(Index chunks, Body body) {
  parallel_for_chunks(chunks, body);
}

// y = x·W (y already sized (batch, out)).
inline void forward(const Matrix& x, const float* W_data, Index in, Index out, Matrix& y) {
  const ConstMatrixMap W(W_data, in, out);
  const Index chunks = chunk_count(out, x.rows() * in * out);
  for_chunks(chunks, [&](Index c) {
    const auto [c0, c1] = chunk_range(out, chunks, c);
    y.middleCols(c0, c1 - c0).noalias() = x * W.middleCols(c0, c1 - c0);
  });
}

// dW += xᵀ·dy.
inline void weight_grad(const Matrix& x, const Matrix& dy, float* dW_data, Index in, Index out) {
  MatrixMap dW(dW_data, in, out);
  const Index chunks = chunk_count(in, x.rows() * in * out);
  for_chunks(chunks, [&](Index c) {
    const auto [r0, r1] = chunk_range(in, chunks, c);
    dW.middleRows(r0, r1 - r0).noalias() += x.middleCols(r0, r1 - r0).transpose() * dy;
  });
}

// dx = dy·Wᵀ (dx already sized (batch, in)).
inline void input_grad(const Matrix& dy, const float* W_data, Index in, Index out, Matrix& dx) {
  const ConstMatrixMap W(W_data, in, out);
  const Index chunks = chunk_count(in, dy.rows() * in * out);
  for_chunks(chunks, [&](Index c) {
    const auto [c0, c1] = chunk_range(in, chunks, c);
    dx.middleCols(c0, c1 - c0).noalias() = dy * W.middleRows(c0, c1 - c0).transpose();
  });
}

}  // namespace nettrain::gemm_detail
