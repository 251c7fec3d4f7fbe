// The layers' products (lib/layers/src/gemm.h): every form they use, on the shapes LIBXSMM takes
// and on those OpenBLAS keeps, against a double-precision reference; that the small shapes of
// the benchmark nets really run LIBXSMM's kernels (else the first case would test OpenBLAS
// twice); and the kernel cache of small_gemm.cpp (one kernel per shape, for every thread).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "gemm.h"
#include "nettrain/core/rng.h"

using namespace nettrain;
using namespace nettrain::gemm_detail;

namespace {

struct Case {
  bool trans_a, trans_b;
  Index m, n, k;
};

// C (m, n) = op(A)·op(B) + beta·C0 with every leading dimension wider than its rows (as in the
// layers' chunks, which run on column ranges of larger matrices); checked element by element
// against a double sum, within a few float roundings of the sum of |a·b|. The padding beside C
// must come back untouched.
void check_product(const Case& c, float beta) {
  const Index pad = 3;
  const Index a_rows = c.trans_a ? c.k : c.m, a_cols = c.trans_a ? c.m : c.k;
  const Index b_rows = c.trans_b ? c.n : c.k, b_cols = c.trans_b ? c.k : c.n;
  const Index lda = a_cols + pad, ldb = b_cols + pad, ldc = c.n + pad;
  Rng rng(static_cast<std::uint64_t>(c.m * 1000003 + c.n * 1009 + c.k));
  auto fill = [&](Index count) {
    std::vector<float> v(static_cast<std::size_t>(count));
    for (float& x : v) x = rng.uniform() * 2.0f - 1.0f;
    return v;
  };
  const std::vector<float> A = fill(a_rows * lda), B = fill(b_rows * ldb), C0 = fill(c.m * ldc);
  std::vector<float> C = C0;
  sgemm(c.trans_a, c.trans_b, c.m, c.n, c.k, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  auto a = [&](Index i, Index p) { return c.trans_a ? A[p * lda + i] : A[i * lda + p]; };
  auto b = [&](Index p, Index j) { return c.trans_b ? B[j * ldb + p] : B[p * ldb + j]; };
  Index bad = 0;
  for (Index i = 0; i < c.m; ++i) {
    for (Index j = 0; j < c.n; ++j) {
      double sum = beta * static_cast<double>(C0[i * ldc + j]), size = std::abs(sum);
      for (Index p = 0; p < c.k; ++p) {
        sum += static_cast<double>(a(i, p)) * b(p, j);
        size += std::abs(static_cast<double>(a(i, p)) * b(p, j));
      }
      if (std::abs(C[i * ldc + j] - sum) > 4e-7 * static_cast<double>(c.k + 2) * size + 1e-30) ++bad;
    }
    for (Index j = c.n; j < ldc; ++j)
      if (C[i * ldc + j] != C0[i * ldc + j]) ++bad;
  }
  CHECK_MESSAGE(bad == 0, "ta=", c.trans_a, " tb=", c.trans_b, " m=", c.m, " n=", c.n, " k=", c.k, " beta=", beta);
}

}  // namespace

TEST_CASE("gemm: every form the layers use matches a double reference, small and large") {
  const std::vector<Case> cases = {
      // x·W: W1's and W2's shard products (LIBXSMM), ragged edges, and one OpenBLAS keeps (k·n > 2^18)
      {false, false, 50, 50, 784},
      {false, false, 50, 10, 50},
      {false, false, 32, 256, 784},
      {false, false, 1, 1, 1},
      {false, false, 7, 33, 5},
      {false, false, 17, 129, 3},
      {false, false, 40, 520, 600},
      // xᵀ·dy: the weight gradients (LIBXSMM up to 128 rows of batch), and 200 rows (OpenBLAS)
      {true, false, 784, 50, 50},
      {true, false, 129, 17, 128},
      {true, false, 3, 5, 1},
      {true, false, 60, 70, 200},
      // dy·Wᵀ: the input gradients (OpenBLAS)
      {false, true, 50, 784, 10},
      {false, true, 7, 9, 11},
  };
  for (const Case& c : cases) {
    check_product(c, 0.0f);
    check_product(c, 1.0f);
  }
}

// Products whose C rows are 2 KB apart go through a scratch (gemm.h, padded_c) unless they add to
// C: the same bytes as OpenBLAS writing C itself, for beta 0 (through the scratch) and 1 (straight)
// and every form, and C's columns beyond the product untouched.
TEST_CASE("gemm: a product through the padded scratch gives OpenBLAS's own bytes") {
  for (const Case c : {Case{false, false, 64, 512, 600}, Case{true, false, 96, 512, 256},
                       Case{false, true, 64, 512, 160}, Case{false, false, 33, 520, 600}}) {
    const Index ldc = 1024;
    REQUIRE(padded_c(c.m, c.n, c.k, ldc, 0.0f));
    REQUIRE_FALSE(padded_c(c.m, c.n, c.k, ldc, 1.0f));             // adding to C: straight into C
    REQUIRE_FALSE(small_product(c.trans_a, c.trans_b, c.n, c.k));  // OpenBLAS's, not LIBXSMM's
    const Index lda = c.trans_a ? c.m : c.k, ldb = c.trans_b ? c.k : c.n;
    Rng rng(static_cast<std::uint64_t>(c.m * 7 + c.n + c.k));
    auto fill = [&](Index count) {
      std::vector<float> v(static_cast<std::size_t>(count));
      for (float& x : v) x = rng.uniform() * 2.0f - 1.0f;
      return v;
    };
    const std::vector<float> A = fill(c.m * c.k), B = fill(c.k * c.n), C0 = fill(c.m * ldc);
    for (const float beta : {0.0f, 1.0f}) {
      CAPTURE(c.trans_a);
      CAPTURE(c.trans_b);
      CAPTURE(c.m);
      CAPTURE(beta);
      std::vector<float> mine = C0, theirs = C0;
      sgemm(c.trans_a, c.trans_b, c.m, c.n, c.k, A.data(), lda, B.data(), ldb, beta, mine.data(), ldc);
      auto i = [](Index v) { return static_cast<blasint>(v); };
      cblas_sgemm(CblasRowMajor, c.trans_a ? CblasTrans : CblasNoTrans, c.trans_b ? CblasTrans : CblasNoTrans, i(c.m),
                  i(c.n), i(c.k), 1.0f, A.data(), i(lda), B.data(), i(ldb), beta, theirs.data(), i(ldc));
      CHECK(std::memcmp(mine.data(), theirs.data(), mine.size() * sizeof(float)) == 0);
      for (Index r = 0; r < c.m; ++r)
        for (Index j = c.n; j < ldc; ++j)
          REQUIRE(mine[static_cast<std::size_t>(r * ldc + j)] == C0[static_cast<std::size_t>(r * ldc + j)]);
    }
  }
}

TEST_CASE("gemm: the benchmark nets' small products run LIBXSMM's kernels") {
  // x·W of W1's shard (50 rows through 784 -> 50) and its weight gradient (784 x 50 from 50 rows)
  CHECK(small_product(false, false, 50, 784));
  CHECK(small_product(true, false, 50, 50));
  CHECK(static_cast<bool>(small_kernel(false, 50, 50, 784, 784, 50, 0.0f, 50)));
  CHECK(static_cast<bool>(small_kernel(true, 784, 50, 50, 784, 50, 1.0f, 50)));
  // the large and the transposed-B forms stay with OpenBLAS
  CHECK_FALSE(small_product(false, false, 1024, 784));
  CHECK_FALSE(small_product(true, false, 1024, 256));
  CHECK_FALSE(small_product(false, true, 784, 10));
}

TEST_CASE("gemm: one JIT kernel per shape, the same for every thread") {
  const SmallKernel first = small_kernel(false, 32, 256, 784, 784, 256, 0.0f, 256);
  REQUIRE(static_cast<bool>(first));
  CHECK((small_kernel(false, 32, 256, 784, 784, 256, 0.0f, 256) == first));
  SmallKernel other_thread = nullptr;
  std::thread([&] { other_thread = small_kernel(false, 32, 256, 784, 784, 256, 0.0f, 256); }).join();
  CHECK((other_thread == first));
  // any difference in the shape, a leading dimension, beta or the transpose is another kernel
  CHECK((small_kernel(false, 32, 256, 784, 784, 256, 1.0f, 256) != first));
  CHECK((small_kernel(false, 32, 256, 784, 784, 256, 0.0f, 260) != first));
  CHECK((small_kernel(false, 31, 256, 784, 784, 256, 0.0f, 256) != first));
  CHECK((small_kernel(true, 32, 256, 784, 32, 256, 0.0f, 256) != first));
}
