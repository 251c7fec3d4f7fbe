// Optimizers: hand-worked first steps for every registered optimizer, exact state round trips,
// config range checks, and the registry's did-you-mean message. An optimizer added to
// optimizer_registry() without an entry in the tables below fails these tests.
#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "nettrain/core/errors.h"
#include "nettrain/train/registry.h"
#include "nettrain/core/rng.h"

using namespace nettrain;

namespace {

std::unique_ptr<Optimizer> make_opt(const nlohmann::json& j) {
  return optimizer_registry().create(j.at("type").get<std::string>(),
                                     ConfigNode(j, "/training/optimizer", "test.json"));
}

struct StepCase {
  std::string what;
  nlohmann::json config;
  std::vector<float> p0;
  std::vector<std::vector<float>> grads;     // one gradient per step
  std::vector<std::vector<float>> expected;  // params after each step, worked out by hand
};

// Every step uses lr = 0.1 (or 0.01 where stated): configs give a different lr on purpose,
// since step() must use the scheduled rate it is given, not the configured one.
std::map<std::string, std::vector<StepCase>> step_cases() {
  std::map<std::string, std::vector<StepCase>> c;
  c["sgd"] = {
      // p -= 0.1·g:  1 - 0.05 = 0.95, 0.95 - 0.05 = 0.9;  -2 - 0.025 = -2.025, -2.05.
      {"plain",
       {{"type", "sgd"}, {"lr", 5.0}},
       {1, -2},
       {{0.5f, 0.25f}, {0.5f, 0.25f}},
       {{0.95f, -2.025f}, {0.9f, -2.05f}}},
      // μ = 0.9.  Element 0, g = 1:  v = 1, p = 1 - 0.1 = 0.9;  v = 0.9 + 1 = 1.9, p = 0.71;
      //   v = 1.71 + 1 = 2.71, p = 0.71 - 0.271 = 0.439.
      // Element 1, g = -2:  v = -2, p = 0.2;  v = -3.8, p = 0.58;  v = -5.42, p = 1.122.
      {"momentum",
       {{"type", "sgd"}, {"momentum", 0.9}},
       {1, 0},
       {{1, -2}, {1, -2}, {1, -2}},
       {{0.9f, 0.2f}, {0.71f, 0.58f}, {0.439f, 1.122f}}},
      // Nesterov μ = 0.9, g = 1:  v = 1, p -= 0.1·(1 + 0.9·1) = 0.19 -> 0.81;
      //   v = 1.9, p -= 0.1·(1 + 1.71) = 0.271 -> 0.539;  v = 2.71, p -= 0.3439 -> 0.1951.
      {"nesterov",
       {{"type", "sgd"}, {"momentum", 0.9}, {"nesterov", true}},
       {1},
       {{1}, {1}, {1}},
       {{0.81f}, {0.539f}, {0.1951f}}},
      // wd = 0.1, g = 0, lr = 0.1:  g' = 0.1·2 = 0.2, p = 2 - 0.02 = 1.98;
      //   g' = 0.198, p = 1.98 - 0.0198 = 1.9602.  Element 1: -4 -> -3.96 -> -3.9204.
      {"weight decay",
       {{"type", "sgd"}, {"weight_decay", 0.1}},
       {2, -4},
       {{0, 0}, {0, 0}},
       {{1.98f, -3.96f}, {1.9602f, -3.9204f}}},
  };
  c["adagrad"] = {
      // s = g² = (1, 4): p -= 0.1·(1/1, 2/2) -> (0.9, 0.9);
      // s = (2, 8): p -= 0.1·(1/√2, 2/√8) = 0.0707107 each -> 0.8292893.
      {"plain", {{"type", "adagrad"}}, {1, 1}, {{1, 2}, {1, 2}}, {{0.9f, 0.9f}, {0.8292893f, 0.8292893f}}},
  };
  c["rmsprop"] = {
      // lr 0.01 here (see run_case), ρ = 0.9, g = (1, -2):
      //   a = 0.1·g² = (0.1, 0.4), g/√a = (3.1622777, -3.1622777), p = 1 ∓ 0.0316228
      //   a = 0.9·a + 0.1·g² = (0.19, 0.76), g/√a = (2.2941573, -2.2941573), p =
      //   (0.9454357, 1.0545643)
      {"plain",
       {{"type", "rmsprop"}},
       {1, 1},
       {{1, -2}, {1, -2}},
       {{0.9683772f, 1.0316228f}, {0.9454357f, 1.0545643f}}},
      // μ = 0.5, element 0: v = 3.1622777, p = 0.9683772;
      //   v = 1.5811388 + 2.2941573 = 3.8752962, p = 0.9683772 - 0.0387530 = 0.9296243.
      {"momentum", {{"type", "rmsprop"}, {"momentum", 0.5}}, {1}, {{1}, {1}}, {{0.9683772f}, {0.9296243f}}},
  };
  c["adam"] = {
      // β1 = 0.9, β2 = 0.999, lr 0.1. Element 0, g = 1 then 3:
      //   t=1: m = 0.1, v = 0.001, m̂ = 0.1/0.1 = 1, v̂ = 0.001/0.001 = 1, p = 1 - 0.1 = 0.9
      //   t=2: m = 0.09 + 0.3 = 0.39, v = 0.000999 + 0.009 = 0.009999,
      //        m̂ = 0.39/0.19 = 2.0526316, v̂ = 0.009999/0.001999 = 5.0020010, √v̂ = 2.2365154,
      //        p = 0.9 - 0.1·2.0526316/2.2365154 = 0.9 - 0.0917781 = 0.8082219
      // Element 1, g = -0.5 then 0:
      //   t=1: m̂ = -0.5, v̂ = 0.25, p = 1 + 0.1 = 1.1
      //   t=2: m = -0.045, m̂ = -0.2368421; v = 0.00024975, v̂ = 0.1249375, √v̂ = 0.3534649,
      //        p = 1.1 + 0.1·0.6700582 = 1.1670058
      {"bias correction", {{"type", "adam"}}, {1, 1}, {{1, -0.5f}, {3, 0}}, {{0.9f, 1.1f}, {0.8082219f, 1.1670058f}}},
      // L2 weight decay 0.5, p = 2, g = 1:
      //   t=1: g' = 1 + 0.5·2 = 2, m̂ = 2, v̂ = 4, p = 2 - 0.1 = 1.9
      //   t=2: g' = 1 + 0.95 = 1.95, m = 0.18 + 0.195 = 0.375, m̂ = 1.9736842;
      //        v = 0.003996 + 0.0038025 = 0.0077985, v̂ = 3.9012006, √v̂ = 1.9751457,
      //        p = 1.9 - 0.1·0.9992601 = 1.8000740
      {"weight decay", {{"type", "adam"}, {"weight_decay", 0.5}}, {2}, {{1}, {1}}, {{1.9f}, {1.8000740f}}},
  };
  c["adamw"] = {
      // Decoupled decay 0.5, p = 2, g = 1, lr 0.1:
      //   t=1: p = 2·(1 - 0.05) = 1.9, then m̂ = 1, v̂ = 1: p = 1.9 - 0.1 = 1.8
      //   t=2: p = 1.8·0.95 = 1.71, m̂ = 0.19/0.19 = 1, v̂ = 1: p = 1.61
      {"decoupled decay", {{"type", "adamw"}, {"weight_decay", 0.5}}, {2}, {{1}, {1}}, {{1.8f}, {1.61f}}},
      // Default weight_decay 0.01, g = 0, p = 1: t=1: p = 1·(1 - 0.001) = 0.999, update 0/eps = 0.
      {"default decay", {{"type", "adamw"}}, {1}, {{0}}, {{0.999f}}},
  };
  return c;
}

void run_case(const StepCase& c) {
  CAPTURE(c.what);
  const float lr = c.config.at("type") == "rmsprop" ? 0.01f : 0.1f;
  auto opt = make_opt(c.config);
  const Index n = static_cast<Index>(c.p0.size());
  opt->reset(n);
  Vector p = Eigen::Map<const Vector>(c.p0.data(), n);
  for (std::size_t s = 0; s < c.grads.size(); ++s) {
    CAPTURE(s);
    const Vector g = Eigen::Map<const Vector>(c.grads[s].data(), n);
    opt->step(VectorMap(p.data(), n), ConstVectorMap(g.data(), n), lr);
    CHECK(opt->steps() == static_cast<std::int64_t>(s + 1));
    for (Index i = 0; i < n; ++i) {
      CAPTURE(i);
      // Float arithmetic on values near 1: a few ulp (~1e-7); 1e-6 relative to 1 + |x|.
      CHECK(p[i] == doctest::Approx(c.expected[s][static_cast<std::size_t>(i)]).epsilon(1e-6));
    }
  }
}

// n values uniform in [-1, 1).
Vector uniform_vec(Rng& rng, Index n) {
  Vector v(n);
  for (Index i = 0; i < n; ++i) v[i] = 2.0f * rng.uniform() - 1.0f;
  return v;
}

// Configs with every state vector in use, for the round trip.
const std::map<std::string, nlohmann::json> stateful_configs = {
    {"sgd", {{"type", "sgd"}, {"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 0.01}}},
    {"adagrad", {{"type", "adagrad"}}},
    {"rmsprop", {{"type", "rmsprop"}, {"momentum", 0.5}}},
    {"adam", {{"type", "adam"}, {"weight_decay", 0.01}}},
    {"adamw", {{"type", "adamw"}}},
};

}  // namespace

TEST_CASE("optimizers: the first steps of every registered optimizer match hand-worked values") {
  const auto cases = step_cases();
  for (const auto& name : optimizer_registry().names()) {
    CAPTURE(name);
    REQUIRE_MESSAGE(cases.count(name) == 1, "no hand-worked steps for optimizer " << name);
    for (const auto& c : cases.at(name)) run_case(c);
  }
}

TEST_CASE("optimizers: state copied into a fresh optimizer continues bit for bit") {
  Rng rng(5);
  auto random_vec = [&](Index n) { return uniform_vec(rng, n); };
  for (const auto& name : optimizer_registry().names()) {
    CAPTURE(name);
    REQUIRE_MESSAGE(stateful_configs.count(name) == 1, "no round-trip config for optimizer " << name);
    const auto& cfg = stateful_configs.at(name);
    const Index n = 3;
    auto a = make_opt(cfg);
    a->reset(n);
    Vector pa = random_vec(n);
    for (int s = 0; s < 2; ++s) a->step(VectorMap(pa.data(), n), ConstVectorMap(random_vec(n).data(), n), 0.05f);

    auto b = make_opt(cfg);  // restored: state vectors and step count
    auto c = make_opt(cfg);  // fresh: no state, to show the state matters
    b->reset(n);
    c->reset(n);
    const auto sa = a->state();
    const auto sb = b->state();
    REQUIRE(sa.size() == sb.size());
    CHECK_FALSE(sa.empty());
    for (std::size_t k = 0; k < sa.size(); ++k) {
      REQUIRE(sa[k].first == sb[k].first);
      REQUIRE(sa[k].second->size() == n);
      *sb[k].second = *sa[k].second;
    }
    b->set_steps(a->steps());
    Vector pb = pa, pc = pa;
    for (int s = 0; s < 3; ++s) {
      const Vector g = random_vec(n);
      a->step(VectorMap(pa.data(), n), ConstVectorMap(g.data(), n), 0.05f);
      b->step(VectorMap(pb.data(), n), ConstVectorMap(g.data(), n), 0.05f);
      c->step(VectorMap(pc.data(), n), ConstVectorMap(g.data(), n), 0.05f);
    }
    CHECK(std::memcmp(pa.data(), pb.data(), sizeof(float) * 3) == 0);
    CHECK(std::memcmp(pa.data(), pc.data(), sizeof(float) * 3) != 0);
    CHECK(a->steps() == 5);
  }
}

TEST_CASE("optimizers: update() over any split of the vector gives step()'s bits") {
  // The trainer walks the vectors in its own blocks (begin_step, then update per block); the
  // result must not depend on where the blocks end or in which order they run.
  Rng rng(11);
  auto random_vec = [&](Index n) { return uniform_vec(rng, n); };
  const Index n = 1000;
  for (const auto& name : optimizer_registry().names()) {
    CAPTURE(name);
    const auto& cfg = stateful_configs.at(name);
    auto whole = make_opt(cfg);
    auto split = make_opt(cfg);
    whole->reset(n);
    split->reset(n);
    Vector pw = random_vec(n);
    Vector ps = pw;
    for (int s = 0; s < 3; ++s) {
      const Vector g = random_vec(n);
      whole->step(VectorMap(pw.data(), n), ConstVectorMap(g.data(), n), 0.05f);
      split->begin_step(n, 0.05f);
      for (const auto& [b, e] : {std::pair<Index, Index>{700, n}, {1, 7}, {7, 700}, {0, 1}})
        split->update(ps.data(), g.data(), b, e);
    }
    CHECK(std::memcmp(pw.data(), ps.data(), sizeof(float) * static_cast<std::size_t>(n)) == 0);
    CHECK(split->steps() == 3);
    const auto sw = whole->state();
    const auto ss = split->state();
    REQUIRE(sw.size() == ss.size());
    for (std::size_t k = 0; k < sw.size(); ++k)
      CHECK(std::memcmp(sw[k].second->data(), ss[k].second->data(), sizeof(float) * static_cast<std::size_t>(n)) == 0);
    CHECK_THROWS_AS(split->begin_step(n + 1, 0.05f), std::logic_error);
  }
}

TEST_CASE("optimizers: base_lr is the configured lr or the optimizer's default") {
  CHECK(make_opt({{"type", "sgd"}})->base_lr() == 0.01);
  CHECK(make_opt({{"type", "adagrad"}})->base_lr() == 0.01);
  CHECK(make_opt({{"type", "rmsprop"}})->base_lr() == 0.001);
  CHECK(make_opt({{"type", "adam"}})->base_lr() == 0.001);
  CHECK(make_opt({{"type", "adamw"}})->base_lr() == 0.001);
  CHECK(make_opt({{"type", "adam"}, {"lr", 0.25}})->base_lr() == 0.25);
  // Stateless when momentum is 0: nothing to checkpoint.
  auto sgd = make_opt({{"type", "sgd"}});
  sgd->reset(4);
  CHECK(sgd->state().empty());
}

TEST_CASE("optimizers: out-of-range settings and unknown keys are config errors") {
  const std::vector<nlohmann::json> bad = {
      {{"type", "sgd"}, {"lr", 0}},
      {{"type", "sgd"}, {"lr", -0.1}},
      {{"type", "sgd"}, {"momentum", 1.0}},
      {{"type", "sgd"}, {"momentum", -0.1}},
      {{"type", "sgd"}, {"nesterov", true}},  // needs momentum > 0
      {{"type", "sgd"}, {"weight_decay", -1e-4}},
      {{"type", "sgd"}, {"nesterov", "yes"}},
      {{"type", "adagrad"}, {"eps", 0}},
      {{"type", "rmsprop"}, {"rho", 1.0}},
      {{"type", "rmsprop"}, {"alpha", 0.9}},
      {{"type", "adam"}, {"beta1", 1.0}},
      {{"type", "adam"}, {"beta2", -0.5}},
      {{"type", "adam"}, {"eps", -1e-8}},
      {{"type", "adamw"}, {"weight_decay", -0.01}},
      {{"type", "adamw"}, {"lr", "fast"}},
  };
  for (const auto& j : bad) {
    CAPTURE(j.dump());
    CHECK_THROWS_AS(make_opt(j), ConfigError);
  }
  const nlohmann::json typo = {{"type", "sgd"}, {"momentun", 0.9}};
  CHECK_THROWS_WITH_AS(make_opt(typo),
                       "test.json: /training/optimizer/momentun: unknown key \"momentun\" "
                       "(did you mean \"momentum\"?)",
                       ConfigError);
  const nlohmann::json range = {{"type", "adam"}, {"beta1", 1.0}};
  CHECK_THROWS_WITH_AS(make_opt(range), doctest::Contains("/training/optimizer/beta1: expected a number in [0, 1)"),
                       ConfigError);
}

TEST_CASE("registry: an unknown optimizer names the closest one and lists the known ones") {
  const nlohmann::json j = {{"type", "adamm"}};
  CHECK_THROWS_WITH_AS(make_opt(j),
                       "test.json: /training/optimizer/type: unknown optimizer \"adamm\" (did you "
                       "mean \"adam\"?); known: adagrad, adam, adamw, rmsprop, sgd",
                       ConfigError);
  const nlohmann::json s = {{"type", "cosin"}};
  CHECK_THROWS_WITH_AS(schedule_registry().create("cosin", ConfigNode(s, "/training/lr_schedule", "t.json")),
                       doctest::Contains("(did you mean \"cosine\"?)"), ConfigError);
  const nlohmann::json l = {{"type", "cross_entropy"}};
  CHECK_THROWS_AS(loss_registry().create("cross_entropy", ConfigNode(l, "/model/loss", "t.json")), ConfigError);
}
