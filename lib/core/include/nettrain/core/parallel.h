// The one owner of the cores: a small pool that runs the chunks of a parallel loop (the chunked
// products of affine layers, the optimizer's and the divergence guard's loops).
//
// Workers spin briefly and then sleep on a futex (std::atomic::wait), so on a machine shared with
// other jobs a waiting thread gives its core back instead of burning it; OpenMP's and Eigen's
// spinning barriers made 2 threads 10-150x slower than 1 under load. Chunks are claimed
// dynamically, and a chunk computes the same bits whichever thread runs it: results depend on
// the chunking (fixed by the shapes), never on the thread count or the schedule.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace nettrain {

// 1 (the default) runs everything on the calling thread; n > 1 keeps n - 1 workers.
void set_num_threads(int n);
int num_threads();

// Calls body(ctx, c) for every c in [0, chunks), spread over the pool; returns when all are done.
// Called from inside a body (a sample shard's whole forward and backward, whose layers chunk
// their own work), it runs the chunks in order on the calling thread: the pool runs one job at
// a time, and the chunks, hence the bits, are the same either way.
void parallel_chunks(std::int64_t chunks, void (*body)(void* ctx, std::int64_t c), void* ctx);

// True on a thread while it runs a body of parallel_chunks.
bool in_parallel_body();

// Which thread of the pool runs the current chunk: 0 for the calling thread, 1..n-1 for the
// workers. For per-thread scratch buffers only; results must never depend on it.
int thread_slot();

// The lambda form.
template <typename F>
void parallel_for_chunks(std::int64_t chunks, F&& f) {
  if (chunks <= 1 || num_threads() <= 1 || in_parallel_body()) {
    for (std::int64_t c = 0; c < chunks; ++c) f(c);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  parallel_chunks(
      chunks, [](void* ctx, std::int64_t c) { (*static_cast<Fn*>(ctx))(c); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// [begin, end) ranges over n independent items (elements, rows, channels): at most kMaxRanges,
// none smaller than `grain` items. The ranges depend on n and grain only, never on the thread
// count, so work whose items do not interact gives the same bits on any number of threads.
constexpr std::int64_t kMaxRanges = 8;

// f(begin, end) over n items cut into `ranges` equal ranges, spread over the pool.
template <typename F>
void parallel_equal_ranges(std::int64_t n, std::int64_t ranges, F&& f) {
  parallel_for_chunks(ranges, [&](std::int64_t c) { f(n * c / ranges, n * (c + 1) / ranges); });
}

template <typename F>
void parallel_ranges(std::int64_t n, std::int64_t grain, F&& f) {
  parallel_equal_ranges(n, std::clamp<std::int64_t>(n / std::max<std::int64_t>(grain, 1), 1, kMaxRanges), f);
}

// [begin, end) ranges over n items, one per thread of the pool (fewer when a range would hold
// under `min_items`). For work whose result cannot depend on the split (each item updated on
// its own, as by an optimizer): unlike parallel_ranges, the split follows the thread count, so
// each core gets an equal share instead of a fixed count of ranges that the cores divide unevenly.
template <typename F>
void parallel_split(std::int64_t n, std::int64_t min_items, F&& f) {
  const std::int64_t most = n / std::max<std::int64_t>(min_items, 1);
  parallel_equal_ranges(n, std::clamp<std::int64_t>(most, 1, std::max(num_threads(), 1)), f);
}

}  // namespace nettrain
