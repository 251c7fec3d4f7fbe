// How fast OpenBLAS's one-thread sgemm runs a product alone and beside itself: the ceiling the
// pool's GEMM chunks (lib/layers/src/gemm.h) can reach on this machine. Runs C = A·B (row-major,
// M×K times K×N) split into two column halves, first one half alone on one thread, then both
// halves at once on two threads that stay alive between repetitions, and prints GFLOPS.
// Usage: nettrain_gemm_probe M N K [SECONDS=2]
#include <cblas.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Product {
  int M, N, K;
  std::vector<float> A, B, C;
  Product(int m, int n, int k)
      : M(m),
        N(n),
        K(k),
        A(static_cast<std::size_t>(m) * k, 0.5f),
        B(static_cast<std::size_t>(k) * n, 0.25f),
        C(static_cast<std::size_t>(m) * n) {}
  // Columns [n0, n1) of C.
  void columns(int n0, int n1) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, n1 - n0, K, 1.0f, A.data(), K, B.data() + n0, N, 0.0f,
                C.data() + n0, N);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s M N K [SECONDS]\n", argv[0]);
    return 2;
  }
  openblas_set_num_threads(1);
  Product p(std::atoi(argv[1]), std::atoi(argv[2]), std::atoi(argv[3]));
  const double seconds = argc > 4 ? std::atof(argv[4]) : 2.0;
  const int half = p.N / 2;
  const double flop_half = 2.0 * p.M * half * p.K;

  p.columns(0, half);  // warm up
  int reps = 0;
  auto t0 = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
    p.columns(0, half);
    ++reps;
  }
  const double alone = flop_half * reps / std::chrono::duration<double>(Clock::now() - t0).count() / 1e9;

  // Two threads, each running its half `reps` times; a start flag so both begin together.
  std::atomic<bool> go{false};
  auto worker = [&](int n0, int n1) {
    while (!go.load()) std::this_thread::yield();
    for (int r = 0; r < reps; ++r) p.columns(n0, n1);
  };
  std::thread other(worker, half, p.N);
  t0 = Clock::now();
  go.store(true);
  worker(0, half);
  other.join();
  const double both = 2.0 * flop_half * reps / std::chrono::duration<double>(Clock::now() - t0).count() / 1e9;
  std::printf("M=%d N=%d K=%d: one half alone %.1f GFLOPS; both halves at once %.1f GFLOPS (%.1f per thread)\n", p.M,
              p.N, p.K, alone, both, both / 2);
  return 0;
}
