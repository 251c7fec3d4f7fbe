// The thread pool of parallel.h: one job at a time, chunks claimed from one 64-bit atomic that
// holds (job generation << 32 | next chunk), so a worker that wakes late can never take a chunk
// of a job it did not read.
#include "nettrain/core/parallel.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NETTRAIN_PAUSE() _mm_pause()
#else
#define NETTRAIN_PAUSE() ((void)0)
#endif

namespace nettrain {
namespace {

// A waiting worker first spins (a few µs: the next job of the same step often comes that soon),
// then yields its core to whatever else wants it (OpenBLAS's threads during an affine product,
// gemm.h) while it keeps watching for ~50 µs more, then sleeps on a futex. Spinning without
// yielding made OpenBLAS's second thread wait for the core, and 2 threads slower than 1 on the
// textbook net.
constexpr int kSpin = 200;
constexpr int kYield = 2000;

inline void wait_step(int i) {
  if (i < kSpin) NETTRAIN_PAUSE();
  else std::this_thread::yield();
}

thread_local int tls_slot = 0;
thread_local bool tls_in_body = false;

// Runs one chunk with tls_in_body set, so the chunk's own parallel loops run inline.
inline void run_body(void (*body)(void*, std::int64_t), void* ctx, std::int64_t c) {
  struct InBody {
    InBody() { tls_in_body = true; }
    ~InBody() { tls_in_body = false; }
  } in_body;
  body(ctx, c);
}

class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i)
      workers_.emplace_back([this, i] {
        tls_slot = i;
        work();
      });
  }
  ~Pool() {
    stop_.store(true);
    gen_.fetch_add(1, std::memory_order_release);
    gen_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void run(std::int64_t chunks, void (*body)(void*, std::int64_t), void* ctx) {
    // 0 marks the fields as being written (fields_gen_), so the job number skips it on wrapping.
    std::uint32_t g = gen_.load(std::memory_order_relaxed) + 1;
    if (g == 0) g = 1;
    // A seqlock over the job's fields: a late worker holding an old claim sees they changed.
    fields_gen_.store(0, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    body_.store(body, std::memory_order_relaxed);
    ctx_.store(ctx, std::memory_order_relaxed);
    chunks_.store(chunks, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    fields_gen_.store(g, std::memory_order_release);
    claim_.store(static_cast<std::uint64_t>(g) << 32, std::memory_order_release);
    gen_.store(g, std::memory_order_release);
    gen_.notify_all();
    std::uint32_t mine = g;
    drain(mine);
    // Wait for chunks other threads took.
    for (int i = 0; done_.load(std::memory_order_acquire) < chunks; ++i) {
      if (i < kSpin + kYield) {
        wait_step(i);
      } else {
        const std::int64_t d = done_.load(std::memory_order_acquire);
        if (d < chunks) done_.wait(d, std::memory_order_acquire);
      }
    }
  }

 private:
  // Claims and runs chunks of the current job; `mine` follows the job it claims from.
  void drain(std::uint32_t& mine) {
    while (true) {
      const std::uint64_t c = claim_.fetch_add(1, std::memory_order_acq_rel);
      const auto g = static_cast<std::uint32_t>(c >> 32);
      const auto index = static_cast<std::int64_t>(c & 0xffffffffu);
      // The claim names its job. Its fields are valid when the seqlock shows that job before
      // and after reading them; a claim below the job's chunk count then holds the owner back
      // (it cannot start another job before this chunk is counted done).
      const std::uint32_t f1 = fields_gen_.load(std::memory_order_acquire);
      const std::int64_t chunks = chunks_.load(std::memory_order_relaxed);
      const auto body = body_.load(std::memory_order_relaxed);
      void* const ctx = ctx_.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      const std::uint32_t f2 = fields_gen_.load(std::memory_order_relaxed);
      if (f1 != g || f2 != g) return;  // a stale claim: that job is over
      mine = g;
      if (index >= chunks) return;
      run_body(body, ctx, index);
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) done_.notify_one();
    }
  }

  void work() {
    std::uint32_t seen = 0;
    while (true) {
      for (int i = 0; gen_.load(std::memory_order_acquire) == seen; ++i) {
        if (i < kSpin + kYield) wait_step(i);
        else gen_.wait(seen, std::memory_order_acquire);
      }
      if (stop_.load()) return;
      seen = gen_.load(std::memory_order_acquire);
      std::uint32_t mine = seen;
      drain(mine);
      if (mine != seen) seen = mine;  // it ran chunks of a newer job: that one is seen too
    }
  }

  std::vector<std::thread> workers_;
  std::atomic<std::uint32_t> gen_{0};         // wakes workers; bumped once per job
  std::atomic<std::uint32_t> fields_gen_{0};  // the job the fields below describe, 0 while written
  std::atomic<std::uint64_t> claim_{0};
  std::atomic<std::int64_t> done_{0};
  std::atomic<std::int64_t> chunks_{0};
  std::atomic<void (*)(void*, std::int64_t)> body_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<bool> stop_{false};
};

std::unique_ptr<Pool>& pool() {
  static std::unique_ptr<Pool> p;
  return p;
}

}  // namespace

void set_num_threads(int n) {
  auto& p = pool();
  if (n <= 1) {
    p.reset();
    return;
  }
  if (p && p->size() == n) return;
  p.reset();
  p = std::make_unique<Pool>(n);
}

int num_threads() { return pool() ? pool()->size() : 1; }

int thread_slot() { return tls_slot; }

bool in_parallel_body() { return tls_in_body; }

void parallel_chunks(std::int64_t chunks, void (*body)(void*, std::int64_t), void* ctx) {
  auto& p = pool();
  if (!p || chunks <= 1 || tls_in_body) {
    for (std::int64_t c = 0; c < chunks; ++c) body(ctx, c);
    return;
  }
  p->run(chunks, body, ctx);
}

}  // namespace nettrain
