// The machine's FP32 FMA peak, measured: independent AVX-512 (or AVX2) FMA chains on every core
// for a fixed time. Prints one line: threads, GFLOPS per core (best of the threads) and in total,
// and the implied clock at 32 FP32 FLOP/cycle/core (one 16-lane FMA per cycle). bench/run.sh
// uses the total as the peak that "% of FMA peak" refers to.
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

#if defined(__AVX512F__)
using V = __m512;
constexpr int kLanes = 16;
inline V vset(float x) { return _mm512_set1_ps(x); }
inline V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline float vsum(V a) { return _mm512_reduce_add_ps(a); }
#else
using V = __m256;
constexpr int kLanes = 8;
inline V vset(float x) { return _mm256_set1_ps(x); }
inline V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline float vsum(V a) {
  alignas(32) float t[8];
  _mm256_store_ps(t, a);
  float s = 0;
  for (float x : t) s += x;
  return s;
}
#endif

// 12 independent chains hide the FMA latency (4 cycles) on two ports.
double gflops_one_thread(double seconds, float* sink) {
  V acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = vset(0.001f * static_cast<float>(i));
  const V a = vset(0.999999f), b = vset(1e-7f);
  const auto t0 = std::chrono::steady_clock::now();
  long long iters = 0;
  double elapsed = 0;
  do {
    for (int r = 0; r < 4096; ++r)
      for (int i = 0; i < 12; ++i) acc[i] = vfma(acc[i], a, b);
    iters += 4096;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (elapsed < seconds);
  float s = 0;
  for (int i = 0; i < 12; ++i) s += vsum(acc[i]);
  *sink = s;
  return static_cast<double>(iters) * 12.0 * kLanes * 2.0 / elapsed / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : static_cast<int>(std::thread::hardware_concurrency());
  const double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
  std::vector<double> g(static_cast<std::size_t>(threads));
  std::vector<float> sink(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back(
        [&, t] { g[static_cast<std::size_t>(t)] = gflops_one_thread(seconds, &sink[static_cast<std::size_t>(t)]); });
  for (auto& th : pool) th.join();
  double best = 0, total = 0;
  for (double x : g) {
    best = x > best ? x : best;
    total += x;
  }
  std::printf("threads %d  per-core best %.1f GFLOPS  total %.1f GFLOPS  clock@32FLOP/cycle %.2f GHz  (sink %g)\n",
              threads, best, total, best / 32.0, static_cast<double>(sink[0]));
  return 0;
}
