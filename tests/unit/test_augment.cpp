// Data augmentation (data.augment): shifts and flips are exact translations/mirrors with zero
// fill, every shift in range is drawn, the draws depend on (seed, step, position) only, and the
// result is the same bits for any thread count.
#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <utility>

#include "nettrain/core/errors.h"
#include "nettrain/core/parallel.h"
#include "nettrain/data/augment.h"

using namespace nettrain;
using json = nlohmann::json;

namespace {

constexpr Index kC = 2, kH = 5, kW = 7;

// Distinct nonzero values, so a transformed row tells which transform made it.
Matrix images(Index rows) {
  Matrix x(rows, kC * kH * kW);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 1000 + 1);
  return x;
}

// The row `in` shifted by (dy, dx) after an optional flip, with zero fill.
std::vector<float> transformed(const float* in, Index dy, Index dx, bool flip) {
  std::vector<float> out(static_cast<std::size_t>(kC * kH * kW), 0.0f);
  for (Index c = 0; c < kC; ++c)
    for (Index y = 0; y < kH; ++y)
      for (Index x = 0; x < kW; ++x) {
        const Index sy = y - dy, sx = x - dx;
        if (sy < 0 || sy >= kH || sx < 0 || sx >= kW) continue;
        out[static_cast<std::size_t>((c * kH + y) * kW + x)] = in[(c * kH + sy) * kW + (flip ? kW - 1 - sx : sx)];
      }
  return out;
}

// The (dy, dx, flip) that turns `in` into `out`, or dy = 99 when none does.
std::tuple<Index, Index, bool> which(const float* in, const float* out, Index shift, bool flips) {
  for (Index dy = -shift; dy <= shift; ++dy)
    for (Index dx = -shift; dx <= shift; ++dx)
      for (bool flip : {false, true}) {
        if (flip && !flips) continue;
        const auto t = transformed(in, dy, dx, flip);
        if (std::memcmp(t.data(), out, t.size() * sizeof(float)) == 0) return {dy, dx, flip};
      }
  return {99, 0, false};
}

}  // namespace

TEST_CASE("augment: every row is a shift within range and a flip or not; all of them are drawn") {
  const AugmentSpec spec{2, true};
  const Augmenter aug(spec, kC, kH, kW, 7);
  const Matrix in = images(400);
  Matrix x = in;
  aug.apply(x, 3);
  std::set<std::tuple<Index, Index, bool>> seen;
  for (Index r = 0; r < x.rows(); ++r) {
    const auto t = which(in.row(r).data(), x.row(r).data(), 2, true);
    REQUIRE(std::get<0>(t) != 99);
    seen.insert(t);
  }
  CHECK(seen.size() == 50);  // 5 x 5 shifts x 2 flips, over 400 rows
}

TEST_CASE("augment: draws depend on seed, step and position only; same bits on any thread count") {
  const Augmenter aug(AugmentSpec{3, true}, kC, kH, kW, 11);
  const Matrix in = images(64);
  const int threads = num_threads();
  Matrix one = in, two = in, later = in;
  set_num_threads(1);
  aug.apply(one, 5);
  set_num_threads(2);
  aug.apply(two, 5);
  set_num_threads(threads);
  CHECK(std::memcmp(one.data(), two.data(), sizeof(float) * static_cast<std::size_t>(one.size())) == 0);
  // Rows 10.. of the batch applied alone, with their position: the same as within the batch.
  Matrix tail = in.bottomRows(54);
  aug.apply(tail, 5, 10);
  CHECK(std::memcmp(tail.data(), one.bottomRows(54).eval().data(), sizeof(float) * 54 * kC * kH * kW) == 0);
  // Another step draws other transforms.
  aug.apply(later, 6);
  CHECK(std::memcmp(one.data(), later.data(), sizeof(float) * static_cast<std::size_t>(one.size())) != 0);
}

TEST_CASE("augment: flip only never shifts; shift 0 and no flip leaves the batch alone") {
  const Matrix in = images(50);
  Matrix x = in;
  Augmenter(AugmentSpec{0, true}, kC, kH, kW, 1).apply(x, 0);
  Index flipped = 0;
  for (Index r = 0; r < x.rows(); ++r) {
    const auto [dy, dx, flip] = which(in.row(r).data(), x.row(r).data(), 0, true);
    REQUIRE(dy == 0);
    flipped += flip;
  }
  CHECK(flipped > 10);
  CHECK(flipped < 40);
  Matrix same = in;
  Augmenter(AugmentSpec{0, false}, kC, kH, kW, 1).apply(same, 0);
  CHECK(same == in);
}

TEST_CASE("augment: the config object's errors name the key") {
  const json bad_key = {{"shift", 2}, {"rotate", 10}};
  CHECK_THROWS_AS(parse_augment(ConfigNode(bad_key, "/data/augment", "c.json")), ConfigError);
  const json negative = {{"shift", -1}};
  CHECK_THROWS_WITH_AS(parse_augment(ConfigNode(negative, "/data/augment", "c.json")),
                       doctest::Contains("/data/augment/shift"), ConfigError);
  const json ok = {{"shift", 2}, {"flip", true}};
  const AugmentSpec s = parse_augment(ConfigNode(ok, "/data/augment", "c.json"));
  CHECK(s.shift == 2);
  CHECK(s.flip);
}
