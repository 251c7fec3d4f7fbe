// Learning-rate schedules: values at chosen steps worked out by hand for every registered
// schedule, the reduce_on_plateau sequence, state round trips and config checks. A schedule added
// to schedule_registry() without an entry below fails these tests.
#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "nettrain/core/errors.h"
#include "nettrain/train/registry.h"

using namespace nettrain;

namespace {

std::unique_ptr<Schedule> make_schedule(const nlohmann::json& j, ScheduleInfo info) {
  auto s =
      schedule_registry().create(j.at("type").get<std::string>(), ConfigNode(j, "/training/lr_schedule", "test.json"));
  s->configure(info);
  return s;
}

struct Point {
  std::int64_t epoch, step;
  double lr;
};

struct ScheduleCase {
  nlohmann::json config;
  ScheduleInfo info;
  std::vector<Point> points;  // worked out by hand
};

std::map<std::string, std::vector<ScheduleCase>> schedule_cases() {
  std::map<std::string, std::vector<ScheduleCase>> c;
  c["constant"] = {{{{"type", "constant"}}, {0.1, 10, 5}, {{0, 0, 0.1}, {4, 49, 0.1}}}};
  // base 0.1, step_size 2, gamma 0.5: epochs 0-1 -> 0.1, 2-3 -> 0.05, 4-5 -> 0.025.
  c["step"] = {{{{"type", "step"}, {"step_size", 2}, {"gamma", 0.5}},
                {0.1, 10, 6},
                {{0, 0, 0.1}, {1, 19, 0.1}, {2, 20, 0.05}, {3, 35, 0.05}, {4, 40, 0.025}, {5, 59, 0.025}}}};
  // gamma 0.5: 0.1·0.5^3 = 0.0125. Default gamma 0.95: 0.1·0.95² = 0.1·0.9025 = 0.09025.
  c["exponential"] = {
      {{{"type", "exponential"}, {"gamma", 0.5}}, {0.1, 10, 5}, {{0, 0, 0.1}, {1, 10, 0.05}, {3, 30, 0.0125}}},
      {{{"type", "exponential"}}, {0.1, 10, 5}, {{2, 20, 0.09025}}}};
  // base 1, 2 epochs of 5 steps: T = 10, lr = (1 + cos(π s/10)) / 2:
  //   s = 0: 1;  s = 2: (1 + cos 0.2π)/2 = (1 + 0.8090170)/2 = 0.9045085;  s = 5: 0.5;
  //   s = 10 (past the end): q clamps to 1 -> 0.
  // min_lr 0.1: 0.1 + 0.9·0.5 = 0.55 at s = 5; 0.1 at the end.
  // Warmup 1 epoch of 4 steps, 3 epochs: W = 4, cosine over 8 steps:
  //   s = 0: 1/4 = 0.25;  s = 1: 0.5;  s = 3: 1;  s = 4: q = 0 -> 1;
  //   s = 6: q = 2/8, (1 + cos(π/4))/2 = (1 + 0.7071068)/2 = 0.8535534;  s = 8: q = 1/2 -> 0.5.
  c["cosine"] = {{{{"type", "cosine"}}, {1.0, 5, 2}, {{0, 0, 1.0}, {0, 2, 0.9045085}, {1, 5, 0.5}, {2, 10, 0.0}}},
                 {{{"type", "cosine"}, {"min_lr", 0.1}}, {1.0, 5, 2}, {{0, 0, 1.0}, {1, 5, 0.55}, {2, 10, 0.1}}},
                 {{{"type", "cosine"}, {"warmup_epochs", 1}},
                  {1.0, 4, 3},
                  {{0, 0, 0.25}, {0, 1, 0.5}, {0, 3, 1.0}, {1, 4, 1.0}, {1, 6, 0.8535534}, {2, 8, 0.5}}}};
  // Before any metric the rate is the base rate (the sequence is tested below).
  c["reduce_on_plateau"] = {{{{"type", "reduce_on_plateau"}}, {0.3, 10, 5}, {{0, 0, 0.3}, {3, 31, 0.3}}}};
  return c;
}

// Configs for the state round trip.
const std::map<std::string, nlohmann::json> round_trip_configs = {
    {"constant", {{"type", "constant"}}},
    {"step", {{"type", "step"}, {"step_size", 1}}},
    {"exponential", {{"type", "exponential"}}},
    {"cosine", {{"type", "cosine"}, {"warmup_epochs", 1}}},
    {"reduce_on_plateau", {{"type", "reduce_on_plateau"}, {"patience", 1}, {"factor", 0.5}}},
};

}  // namespace

TEST_CASE("schedules: every registered schedule gives the hand-worked rates") {
  const auto cases = schedule_cases();
  for (const auto& name : schedule_registry().names()) {
    CAPTURE(name);
    REQUIRE_MESSAGE(cases.count(name) == 1, "no hand-worked rates for schedule " << name);
    for (const auto& c : cases.at(name)) {
      auto s = make_schedule(c.config, c.info);
      CHECK(s->type() == name);
      for (const auto& pt : c.points) {
        CAPTURE(pt.epoch);
        CAPTURE(pt.step);
        CHECK(s->lr(pt.epoch, pt.step) == doctest::Approx(pt.lr).epsilon(1e-7));
      }
    }
  }
}

TEST_CASE("schedules: reduce_on_plateau lowers the rate after `patience` epochs without improvement") {
  // base 1, factor 0.5, patience 2, threshold 1e-4 (relative), min_lr 0.3.
  // metric  best     improved?                        bad  scale  lr
  // 1.0     1.0      first                             0    1      1
  // 0.5     0.5      yes                               0    1      1
  // 0.49999 0.5      no: needs < 0.5·0.9999 = 0.49995  1    1      1
  // 0.6     0.5      no                                2->0 0.5    0.5
  // 0.4     0.4      yes                               0    0.5    0.5
  // 0.4     0.4      no                                1    0.5    0.5
  // 0.4     0.4      no                                2->0 0.25   max(0.25, 0.3) = 0.3
  const nlohmann::json j = {{"type", "reduce_on_plateau"}, {"factor", 0.5}, {"min_lr", 0.3}};
  auto s = make_schedule(j, {1.0, 10, 20});
  const std::vector<std::pair<double, double>> seq = {{1.0, 1.0}, {0.5, 1.0}, {0.49999, 1.0}, {0.6, 0.5},
                                                      {0.4, 0.5}, {0.4, 0.5}, {0.4, 0.3}};
  std::int64_t epoch = 0;
  for (const auto& [metric, lr] : seq) {
    CAPTURE(epoch);
    s->on_epoch_end(epoch, metric);
    ++epoch;
    CHECK(s->lr(epoch, epoch * 10) == doctest::Approx(lr));
  }
  const auto st = s->state();
  CHECK(st.at("best") == 0.4);
  CHECK(st.at("bad_epochs") == 0.0);
  CHECK(st.at("scale") == 0.25);
}

TEST_CASE("schedules: state copied into a fresh schedule continues identically") {
  const std::vector<double> before = {1.0, 0.5, 0.6, 0.7};
  const std::vector<double> after = {0.8, 0.9, 0.3, 0.35, 0.4, 0.45};
  const ScheduleInfo info{0.2, 3, 10};
  for (const auto& name : schedule_registry().names()) {
    CAPTURE(name);
    REQUIRE_MESSAGE(round_trip_configs.count(name) == 1, "no round-trip config for schedule " << name);
    const auto& cfg = round_trip_configs.at(name);
    auto a = make_schedule(cfg, info);
    std::int64_t epoch = 0;
    for (double m : before) a->on_epoch_end(epoch++, m);
    auto b = make_schedule(cfg, info);
    b->set_state(a->state());
    CHECK(b->state() == a->state());
    for (double m : after) {
      CHECK(a->lr(epoch, epoch * 3 + 1) == b->lr(epoch, epoch * 3 + 1));
      a->on_epoch_end(epoch, m);
      b->on_epoch_end(epoch, m);
      ++epoch;
    }
    CHECK(b->state() == a->state());
  }
  // Without the restored state, reduce_on_plateau would start again from the base rate.
  auto a = make_schedule(round_trip_configs.at("reduce_on_plateau"), info);
  for (double m : before) a->on_epoch_end(0, m);
  auto fresh = make_schedule(round_trip_configs.at("reduce_on_plateau"), info);
  CHECK(a->lr(4, 12) != fresh->lr(4, 12));
  CHECK_THROWS_AS(fresh->set_state({{"best", 1.0}}), ModelFileError);
}

TEST_CASE("schedules: bad settings are config errors") {
  const std::vector<nlohmann::json> bad = {
      {{"type", "constant"}, {"gamma", 0.5}},
      {{"type", "step"}},  // step_size is required
      {{"type", "step"}, {"step_size", 0}},
      {{"type", "step"}, {"step_size", 2}, {"gamma", 1.5}},
      {{"type", "exponential"}, {"gamma", 0}},
      {{"type", "cosine"}, {"warmup_epochs", -1}},
      {{"type", "cosine"}, {"min_lr", -0.1}},
      {{"type", "cosine"}, {"warmup", 1}},
      {{"type", "reduce_on_plateau"}, {"factor", 1.0}},
      {{"type", "reduce_on_plateau"}, {"patience", 0}},
      {{"type", "reduce_on_plateau"}, {"threshold", -1}},
  };
  for (const auto& j : bad) {
    CAPTURE(j.dump());
    CHECK_THROWS_AS(make_schedule(j, {}), ConfigError);
  }
}
