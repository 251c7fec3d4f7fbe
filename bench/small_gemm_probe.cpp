// OpenBLAS's one-thread sgemm beside LIBXSMM's JIT kernel on one product shape: the measurement
// behind gemm.h's choice of which products LIBXSMM takes. Row-major C (M, N) = op(A)·op(B) with
// op(A) (M, K); TA = 1 for Aᵀ (the weight gradient xᵀ·dy). Prints GFLOPS of each, which of the two
// gemm.h picks for the shape, and the largest difference between their results.
// Usage: nettrain_small_gemm_probe M N K [TA=0] [SECONDS=0.5]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "gemm.h"

namespace {

using Clock = std::chrono::steady_clock;
using nettrain::Index;

// GFLOPS of f() repeated for about `seconds` after a warm-up.
template <typename F>
double gflops(F&& f, double flops, double seconds) {
  for (int i = 0; i < 20; ++i) f();
  long reps = 0;
  const auto t0 = Clock::now();
  double s = 0;
  do {
    for (int i = 0; i < 20; ++i) f();
    reps += 20;
    s = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (s < seconds);
  return flops * static_cast<double>(reps) / s / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s M N K [TA=0] [SECONDS=0.5]\n", argv[0]);
    return 2;
  }
  const Index M = std::atol(argv[1]), N = std::atol(argv[2]), K = std::atol(argv[3]);
  const bool ta = argc > 4 && std::atoi(argv[4]) != 0;
  const double seconds = argc > 5 ? std::atof(argv[5]) : 0.5;
  if (M <= 0 || N <= 0 || K <= 0) {
    std::fprintf(stderr, "M, N and K must be positive\n");
    return 2;
  }
  openblas_set_num_threads(1);
  std::vector<float> A(static_cast<std::size_t>(M * K)), B(static_cast<std::size_t>(K * N));
  std::vector<float> C1(static_cast<std::size_t>(M * N)), C2(C1.size());
  unsigned state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
  };
  for (float& v : A) v = next();
  for (float& v : B) v = next();
  const Index lda = ta ? M : K;
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  const double blas = gflops(
      [&] {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, static_cast<blasint>(M),
                    static_cast<blasint>(N), static_cast<blasint>(K), 1.0f, A.data(), static_cast<blasint>(lda),
                    B.data(), static_cast<blasint>(N), 0.0f, C1.data(), static_cast<blasint>(N));
      },
      flops, seconds);
  const nettrain::gemm_detail::SmallKernel kernel = nettrain::gemm_detail::small_kernel(ta, M, N, K, lda, N, 0.0f, N);
  double xsmm = 0, diff = 0;
  if (kernel) {
    xsmm = gflops([&] { kernel(B.data(), A.data(), C2.data()); }, flops, seconds);
    for (std::size_t i = 0; i < C1.size(); ++i) diff = std::max(diff, static_cast<double>(std::fabs(C1[i] - C2[i])));
  }
  const bool small = nettrain::gemm_detail::small_product(ta, false, N, K);
  std::printf(
      "M=%ld N=%ld K=%ld %s: OpenBLAS %.1f GFLOPS, LIBXSMM %s%.1f GFLOPS; gemm.h uses %s; max |difference| %.3g\n",
      static_cast<long>(M), static_cast<long>(N), static_cast<long>(K), ta ? "A^T·B" : "A·B", blas,
      kernel ? "" : "(no kernel) ", xsmm, small ? "LIBXSMM" : "OpenBLAS", diff);
  return 0;
}
