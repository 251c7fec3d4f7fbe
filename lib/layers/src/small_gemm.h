// JIT kernels for the small products (gemm.h decides which): LIBXSMM's code generator writes an
// AVX-512/AVX2 kernel for one product shape, which we copy into executable pages of our own and
// keep for the life of the process, one per shape.
//
// Only LIBXSMM's generator is used (libxsmmgen), not its runtime: the runtime's kernel registry
// is mapped with MAP_LOCKED on first use, ~11 MB resident in every process that runs a small
// product (W3's peak RSS went 118 -> 129 MB with it), where a kernel here costs a page or two.
#pragma once

#include "nettrain/core/tensor.h"

namespace nettrain::gemm_detail {

// LIBXSMM's column-major kernel signature: C = first·second (+ C when beta is 1).
using SmallKernel = void (*)(const float* first, const float* second, float* c);

// The kernel for row-major C (m, n) = op(A)·op(B) + beta·C, op(A) (m, k) transposed when
// trans_a, B (k, n) not transposed, leading dimensions lda, ldb, ldc; beta 0 or 1. Called as
// kernel(B, A, C) (row-major C is column-major Cᵀ = Bᵀ·op(A)ᵀ). Null when the generator has no
// kernel for the shape. Safe to call from several threads at once; the first call for a shape
// generates it (tens of microseconds), later ones look it up in a per-thread table.
SmallKernel small_kernel(bool trans_a, Index m, Index n, Index k, Index lda, Index ldb, float beta, Index ldc);

}  // namespace nettrain::gemm_detail
