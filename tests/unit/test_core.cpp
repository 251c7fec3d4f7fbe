// Rng and ConfigNode: the two pieces every other part reads through.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "nettrain/core/config_node.h"
#include "nettrain/core/rng.h"

using namespace nettrain;

TEST_CASE("rng: same seed gives the same stream, state round-trips") {
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    CHECK(x == b.next_u64());
  }
  CHECK(Rng(42).next_u64() != Rng(43).next_u64());
  const auto saved = a.state();
  const auto next = a.next_u64();
  Rng d;
  d.set_state(saved);
  CHECK(d.next_u64() == next);
}

TEST_CASE("rng: below is in range and covers it; normal has mean 0 and variance 1") {
  Rng r(7);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto v = r.below(10);
    REQUIRE(v < 10);
    seen.insert(v);
  }
  CHECK(seen.size() == 10);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double z = r.normal();
    sum += z;
    sq += z * z;
  }
  CHECK(std::fabs(sum / n) < 0.01);
  CHECK(std::fabs(sq / n - 1.0) < 0.02);
  for (int i = 0; i < 1000; ++i) {
    const float u = r.uniform();
    REQUIRE(u >= 0.0f);
    REQUIRE(u < 1.0f);
  }
}

TEST_CASE("config node: typed getters name file, pointer, expected and actual") {
  const auto j = nlohmann::json::parse(R"({"units": -3, "lr": "fast", "name": "x", "ok": 5, "act": "relu"})");
  ConfigNode n(j, "/model/layers/2", "cfg.json");
  CHECK(n.get_positive_int("ok") == 5);
  CHECK_THROWS_WITH_AS(n.get_positive_int("units"),
                       "cfg.json: /model/layers/2/units: expected a positive integer, got -3", ConfigError);
  CHECK_THROWS_WITH_AS(n.get_number("lr"), "cfg.json: /model/layers/2/lr: expected a number, got \"fast\"",
                       ConfigError);
  CHECK_THROWS_WITH_AS(n.get_int("missing"), "cfg.json: /model/layers/2/missing: required key is missing", ConfigError);
  CHECK(n.get_int_or("missing", 9) == 9);
  CHECK_THROWS_WITH_AS(n.get_choice("act", {"relu6", "tanh"}),
                       "cfg.json: /model/layers/2/act: expected one of \"relu6\", \"tanh\", got \"relu\" "
                       "(did you mean \"relu6\"?)",
                       ConfigError);
}

TEST_CASE("config node: unknown keys get a did-you-mean hint") {
  const auto j = nlohmann::json::parse(R"({"untis": 3})");
  ConfigNode n(j, "/model/layers/0", "c.json");
  CHECK_THROWS_WITH_AS(n.check_keys({"type", "units", "init"}),
                       "c.json: /model/layers/0/untis: unknown key \"untis\" (did you mean \"units\"?)", ConfigError);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(closest_match("zzzzzz", {"units", "init"}).empty());
}
