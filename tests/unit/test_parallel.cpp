// The pool's loops (parallel.h): every chunk and every item runs exactly once; parallel_ranges'
// ranges depend on the item count and grain only, never on the thread count, and
// parallel_split's give each thread one run.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <utility>
#include <vector>

#include "nettrain/core/parallel.h"

using namespace nettrain;

namespace {

// The [begin, end) ranges parallel_ranges hands out, sorted, with a count per item.
std::pair<std::set<std::pair<std::int64_t, std::int64_t>>, std::vector<int>> ranges_of(std::int64_t n,
                                                                                       std::int64_t grain,
                                                                                       int threads) {
  set_num_threads(threads);
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  std::vector<std::pair<std::int64_t, std::int64_t>> seen(kMaxRanges, {-1, -1});
  std::atomic<int> count{0};
  parallel_ranges(n, grain, [&](std::int64_t b, std::int64_t e) {
    seen[static_cast<std::size_t>(count.fetch_add(1))] = {b, e};
    for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)].fetch_add(1);
  });
  set_num_threads(1);
  std::set<std::pair<std::int64_t, std::int64_t>> out(seen.begin(), seen.begin() + count.load());
  std::vector<int> h;
  for (auto& x : hits) h.push_back(x.load());
  return {out, h};
}

}  // namespace

TEST_CASE("parallel: every item once, and the same ranges on 1, 2 and 3 threads") {
  for (const auto& [n, grain] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {7, 1}, {1000, 64}, {100000, 1000}, {5, 100}}) {
    const auto one = ranges_of(n, grain, 1);
    INFO("n " << n << " grain " << grain);
    CHECK(one.second == std::vector<int>(static_cast<std::size_t>(n), 1));
    CHECK(static_cast<std::int64_t>(one.first.size()) <= kMaxRanges);
    CHECK(static_cast<std::int64_t>(one.first.size()) ==
          std::min<std::int64_t>(kMaxRanges, std::max<std::int64_t>(1, n / grain)));
    for (int threads : {2, 3}) {
      const auto many = ranges_of(n, grain, threads);
      CHECK(many.first == one.first);
      CHECK(many.second == one.second);
    }
  }
}

TEST_CASE("parallel: parallel_split gives each thread one run, every item once, none under the minimum") {
  for (const auto& [n, min_items] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {1, 1}, {7, 1}, {39760, 16384}, {16383, 16384}, {100000, 1000}, {5, 100}}) {
    for (int threads : {1, 2, 3}) {
      INFO("n " << n << " min " << min_items << " threads " << threads);
      set_num_threads(threads);
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      std::atomic<int> runs{0}, short_runs{0};
      parallel_split(n, min_items, [&](std::int64_t b, std::int64_t e) {
        runs.fetch_add(1);
        if (e - b < min_items) short_runs.fetch_add(1);
        for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)].fetch_add(1);
      });
      set_num_threads(1);
      int wrong = 0;
      for (auto& h : hits) wrong += h.load() == 1 ? 0 : 1;
      CHECK(wrong == 0);
      const std::int64_t expected = std::clamp<std::int64_t>(n / min_items, 1, threads);
      CHECK(runs.load() == expected);
      // One run may be short only when all n items are under the minimum.
      CHECK(short_runs.load() == (n < min_items ? 1 : 0));
    }
  }
}

TEST_CASE("parallel: chunks run once each across many back-to-back jobs; thread_slot stays in range") {
  set_num_threads(2);
  std::vector<std::int64_t> owner(8);
  int bad = 0;
  std::atomic<int> bad_slot{0};
  for (std::int64_t job = 1; job <= 20000; ++job) {
    const std::int64_t chunks = 1 + job % 8;
    parallel_for_chunks(chunks, [&](std::int64_t c) {
      owner[static_cast<std::size_t>(c)] = job;
      const int s = thread_slot();
      if (s < 0 || s >= num_threads()) bad_slot.fetch_add(1);
    });
    for (std::int64_t c = 0; c < chunks; ++c) bad += owner[static_cast<std::size_t>(c)] == job ? 0 : 1;
  }
  set_num_threads(1);
  CHECK(bad == 0);
  CHECK(bad_slot.load() == 0);
}
