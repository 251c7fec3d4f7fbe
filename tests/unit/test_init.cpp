// Initializers: determinism for a seed, the spread each formula promises, bounds of the uniform
// ones, and the error for an unknown name.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nettrain/core/errors.h"
#include "nettrain/core/init.h"

using namespace nettrain;

namespace {

std::vector<float> draw(const std::string& name, Index fan_in, Index fan_out, std::size_t n, std::uint64_t seed,
                        double std_dev = 0.01) {
  std::vector<float> out(n, -7.0f);
  Rng rng(seed);
  InitSpec spec;
  spec.name = name;
  spec.fan_in = fan_in;
  spec.fan_out = fan_out;
  spec.std = std_dev;
  initialize(spec, out, rng);
  return out;
}

double mean(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return s / static_cast<double>(v.size());
}

double stddev(const std::vector<float>& v) {
  const double m = mean(v);
  double s = 0;
  for (float x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size()));
}

}  // namespace

TEST_CASE("init: the user-facing names; ones is internal") {
  const std::vector<std::string> expected = {"xavier_uniform", "xavier_normal", "he_uniform",
                                             "he_normal",      "normal",        "zeros"};
  CHECK(initializer_names() == expected);
  for (float x : draw("ones", 3, 3, 5, 1)) CHECK(x == 1.0f);
  for (float x : draw("zeros", 3, 3, 5, 1)) CHECK(x == 0.0f);
}

TEST_CASE("init: same seed gives the same floats, another seed others") {
  for (const auto& name : {"xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "normal"}) {
    CAPTURE(name);
    const auto a = draw(name, 20, 10, 1000, 42), b = draw(name, 20, 10, 1000, 42);
    const auto c = draw(name, 20, 10, 1000, 43);
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    CHECK(a != c);
  }
}

TEST_CASE("init: normal initializers have the promised spread") {
  // 100k samples: the standard error of the sample std is σ/√(2n) = 0.22% of σ, so 2% is a
  // 9-sigma band that still catches a wrong fan (fan_in 50 vs 57 is 7%).
  const std::size_t n = 100000;
  // he_normal: σ = sqrt(2 / fan_in) = sqrt(2/50) = 0.2.
  const auto he = draw("he_normal", 50, 7, n, 3);
  CHECK(std::fabs(stddev(he) / 0.2 - 1.0) < 0.02);
  CHECK(std::fabs(mean(he)) < 0.005);  // standard error 0.2/316 = 0.0006
  // xavier_normal: σ = sqrt(2 / (50 + 30)) = sqrt(0.025) = 0.1581139.
  const auto xn = draw("xavier_normal", 50, 30, n, 4);
  CHECK(std::fabs(stddev(xn) / 0.1581139 - 1.0) < 0.02);
  // normal with std 0.5.
  const auto nn = draw("normal", 1, 1, n, 5, 0.5);
  CHECK(std::fabs(stddev(nn) / 0.5 - 1.0) < 0.02);
}

TEST_CASE("init: uniform initializers stay inside (-a, a) and fill it") {
  const std::size_t n = 100000;
  // xavier_uniform, fans 3 and 5: a = sqrt(6/8) = 0.8660254; he_uniform, fan_in 24:
  // a = sqrt(6/24) = 0.5. U(-a, a) has std a/√3.
  const std::vector<std::tuple<std::string, Index, Index, double>> cases = {{"xavier_uniform", 3, 5, 0.8660254},
                                                                            {"he_uniform", 24, 100, 0.5}};
  for (const auto& [name, fin, fout, a] : cases) {
    CAPTURE(name);
    const auto v = draw(name, fin, fout, n, 9);
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    CHECK(*lo >= -a);
    CHECK(*hi <= a);
    CHECK(*lo < -0.99 * a);  // 100k draws reach within 1% of both ends
    CHECK(*hi > 0.99 * a);
    CHECK(std::fabs(stddev(v) / (a / std::sqrt(3.0)) - 1.0) < 0.02);
  }
}

TEST_CASE("init: unknown name is a ConfigError with a hint") {
  CHECK_THROWS_WITH_AS(draw("he_normall", 3, 3, 4, 1), doctest::Contains("did you mean \"he_normal\""), ConfigError);
  CHECK_THROWS_AS(draw("glorot", 3, 3, 4, 1), ConfigError);
  CHECK_THROWS_AS(draw("he_normal", 0, 3, 4, 1), ConfigError);
}
