// Every registered layer: a forward pass on a hand-computed example and a central-difference
// gradient check, driven by layer_registry().names() so that no registered layer escapes; then
// the textbook mul/add graph, config errors, and the assign/add contract of backward.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "layer_bench.h"
#include "nettrain/core/config_node.h"
#include "nettrain/core/errors.h"
#include "nettrain/layers/registry.h"

using namespace nettrain;
using namespace nettrain::test;
using json = nlohmann::json;

namespace {

// A small example whose output is worked out by hand (or by the formula, written out here).
struct HandCase {
  Index batch;
  std::vector<std::vector<float>> x;        // per input: batch × size values, row-major
  std::vector<std::vector<float>> params;   // per parameters() tensor
  std::vector<std::vector<float>> buffers;  // per buffers() tensor
  Mode mode;
  std::vector<float> y;                                // expected output, row-major
  std::vector<std::vector<float>> buffers_after = {};  // expected buffers after forward (if given)
};

struct LayerCase {
  json config;
  std::vector<Shape> shapes;
  HandCase hand;
  bool positive_inputs = false;  // gradient check with x in [0.5, 2] (pow with a real exponent)
  bool mode_dependent = false;   // gradient check in eval mode as well
  bool distinct_inputs = false;  // gradient check with well-separated values (max pooling)
};

const float kLn2 = std::log(2.0f), kLn3 = std::log(3.0f), kLn4 = std::log(4.0f);
const float kEps = 1e-5f;  // batchnorm's default epsilon

// One entry per registered layer; the registry test fails for a layer missing here.
std::map<std::string, LayerCase> layer_cases() {
  std::map<std::string, LayerCase> c;
  // y = x·W + b: [1,0,-1]·W = [1-5, 2-6] = [-4,-4]; [2,1,0]·W = [2+3, 4+4] = [5, 8]; + [0.5, -1].
  c["affine"] = {json{{"type", "affine"}, {"units", 2}},
                 {Shape{3}},
                 {2, {{1, 0, -1, 2, 1, 0}}, {{1, 2, 3, 4, 5, 6}, {0.5f, -1}}, {}, Mode::train, {-3.5f, -5, 5.5f, 7}}};
  c["relu"] = {json{{"type", "relu"}},
               {Shape{4}},
               {2, {{-1, 0.5f, 2, -3, 4, -0.25f, 0, 1}}, {}, {}, Mode::train, {0, 0.5f, 2, 0, 4, 0, 0, 1}}};
  c["leaky_relu"] = {json{{"type", "leaky_relu"}, {"slope", 0.1}},
                     {Shape{4}},
                     {1, {{-1, 0.5f, 2, -3}}, {}, {}, Mode::train, {-0.1f, 0.5f, 2, -0.3f}}};
  // σ(ln 3) = 1/(1 + 1/3) = 0.75; σ(−100) underflows to 0 without NaN.
  c["sigmoid"] = {json{{"type", "sigmoid"}},
                  {Shape{4}},
                  {1, {{0, kLn3, -kLn3, -100}}, {}, {}, Mode::train, {0.5f, 0.75f, 0.25f, 0}}};
  // tanh(ln 2) = (2 − 1/2)/(2 + 1/2) = 0.6; tanh(ln 3) = (3 − 1/3)/(3 + 1/3) = 0.8.
  c["tanh"] = {
      json{{"type", "tanh"}}, {Shape{4}}, {1, {{0, kLn2, -kLn2, kLn3}}, {}, {}, Mode::train, {0, 0.6f, -0.6f, 0.8f}}};
  // e^x = 1,2,3,4 → /10; a row of 1000s would overflow e^x without the max shift.
  c["softmax"] = {json{{"type", "softmax"}},
                  {Shape{4}},
                  {2,
                   {{0, kLn2, kLn3, kLn4, 1000, 1000, 1000, 1000}},
                   {},
                   {},
                   Mode::train,
                   {0.1f, 0.2f, 0.3f, 0.4f, 0.25f, 0.25f, 0.25f, 0.25f}}};
  // Eval mode is the identity (train mode has its own test below).
  c["dropout"] = {json{{"type", "dropout"}, {"rate", 0.5}},
                  {Shape{3}},
                  {2, {{1, -2, 3, 4, 5, -6}}, {}, {}, Mode::eval, {1, -2, 3, 4, 5, -6}},
                  false,
                  true};
  // Feature 0: {1, 3}, μ = 2, σ² = 1; feature 1: {2, 6}, μ = 4, σ² = 4. γ = [2, 0.5], β = [0.1, −1].
  // Running stats from 0/1: mean 0.1·μ = [0.2, 0.4]; var 0.9 + 0.1·unbiased [2, 8] = [1.1, 1.7].
  c["batchnorm"] = {json{{"type", "batchnorm"}},
                    {Shape{2}},
                    {2,
                     {{1, 2, 3, 6}},
                     {{2, 0.5f}, {0.1f, -1}},
                     {{0, 0}, {1, 1}},
                     Mode::train,
                     {-2 / std::sqrt(1 + kEps) + 0.1f, 0.5f * -2 / std::sqrt(4 + kEps) - 1,
                      2 / std::sqrt(1 + kEps) + 0.1f, 0.5f * 2 / std::sqrt(4 + kEps) - 1},
                     {{0.2f, 0.4f}, {1.1f, 1.7f}}},
                    false,
                    true};
  c["add"] = {
      json{{"type", "add"}}, {Shape{3}, Shape{3}}, {1, {{1, 2, 3}, {10, 20, 30}}, {}, {}, Mode::train, {11, 22, 33}}};
  c["mul"] = {
      json{{"type", "mul"}}, {Shape{3}, Shape{3}}, {1, {{1, 2, 3}, {10, 20, 30}}, {}, {}, Mode::train, {10, 40, 90}}};
  c["exp"] = {
      json{{"type", "exp"}, {"base", 2}}, {Shape{4}}, {1, {{0, 1, 3, -1}}, {}, {}, Mode::train, {1, 2, 8, 0.5f}}};
  // x^2.5: 4^2.5 = 2^5 = 32, 9^2.5 = 3^5 = 243.
  c["pow"] = {
      json{{"type", "pow"}, {"exponent", 2.5}}, {Shape{3}}, {1, {{1, 4, 9}}, {}, {}, Mode::train, {1, 32, 243}}, true};
  c["scale"] = {json{{"type", "scale"}, {"factor", 3}, {"offset", -1}},
                {Shape{3}},
                {1, {{0, 1, -2}}, {}, {}, Mode::train, {-1, 2, -7}}};
  // Channel 0 = 1..9, channel 1 = [1,0,0; 0,1,0; 0,0,1]; 2x2 windows at (0,0), (0,1), (1,0), (1,1).
  // Filter 0 = [1,2;3,4] on channel 0 + [1,1;1,1] on channel 1, bias 0.5:
  //   channel 0: 1+4+12+20 = 37, 2+6+15+24 = 47, 4+10+21+32 = 67, 5+12+24+36 = 77
  //   channel 1 window sums: 2, 1, 1, 2  → 39.5, 48.5, 68.5, 79.5
  // Filter 1 = 0 on channel 0 + [1,-1;-1,1] on channel 1, bias -1: 2, -1, -1, 2 → 1, -2, -2, 1.
  c["conv2d"] = {json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 2}},
                 {Shape{2, 3, 3}},
                 {1,
                  {{1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 0, 0, 0, 1, 0, 0, 0, 1}},
                  {{1, 2, 3, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, -1, -1, 1}, {0.5f, -1}},
                  {},
                  Mode::train,
                  {39.5f, 48.5f, 68.5f, 79.5f, 1, -2, -2, 1}}};
  // The gradient check of conv2d uses the case above on a [2, 3, 3] input; stride, padding and
  // non-square kernels have their own gradient checks in test_layer_behaviour.cpp.
  // 2x2 windows of [1,3,2,2; 3,0,2,1; -1,-2,5,6; -3,-4,7,0]: max {1,3,3,0} = 3, {2,2,2,1} = 2,
  // {-1,-2,-3,-4} = -1, {5,6,7,0} = 7; means 7/4, 7/4, -10/4, 18/4.
  c["maxpool2d"] = {json{{"type", "maxpool2d"}},
                    {Shape{1, 4, 4}},
                    {1, {{1, 3, 2, 2, 3, 0, 2, 1, -1, -2, 5, 6, -3, -4, 7, 0}}, {}, {}, Mode::train, {3, 2, -1, 7}},
                    false,
                    false,
                    true};
  c["avgpool2d"] = {
      json{{"type", "avgpool2d"}, {"kernel", 2}},
      {Shape{1, 4, 4}},
      {1, {{1, 3, 2, 2, 3, 0, 2, 1, -1, -2, 5, 6, -3, -4, 7, 0}}, {}, {}, Mode::train, {1.75f, 1.75f, -2.5f, 4.5f}}};
  // Means of each channel's 2x2 block: (1+2+3+4)/4 = 2.5, (-1+0+0+5)/4 = 1; (0,0,0,0) and (8,8,8,8).
  c["global_avg_pool"] = {
      json{{"type", "global_avg_pool"}},
      {Shape{2, 2, 2}},
      {2, {{1, 2, 3, 4, -1, 0, 0, 5, 0, 0, 0, 0, 8, 8, 8, 8}}, {}, {}, Mode::train, {2.5f, 1, 0, 8}}};
  c["flatten"] = {json{{"type", "flatten"}},
                  {Shape{2, 1, 2}},
                  {2, {{1, 2, 3, 4, 5, 6, 7, 8}}, {}, {}, Mode::train, {1, 2, 3, 4, 5, 6, 7, 8}}};
  return c;
}

Matrix rows(Index batch, const std::vector<float>& v) {
  Matrix m(batch, static_cast<Index>(v.size()) / batch);
  std::copy(v.begin(), v.end(), m.data());
  return m;
}

void check_hand_case(const LayerCase& lc) {
  LayerBench b = make_bench(lc.config, lc.shapes);
  const HandCase& h = lc.hand;
  REQUIRE(h.params.size() == b.param_specs.size());
  REQUIRE(h.buffers.size() == b.buffer_specs.size());
  for (std::size_t i = 0; i < h.params.size(); ++i) {
    REQUIRE(static_cast<Index>(h.params[i].size()) == b.param_specs[i].size());
    std::copy(h.params[i].begin(), h.params[i].end(), b.param(i));
  }
  for (std::size_t i = 0; i < h.buffers.size(); ++i) std::copy(h.buffers[i].begin(), h.buffers[i].end(), b.buffer(i));
  std::vector<Matrix> xs;
  for (const auto& v : h.x) xs.push_back(rows(h.batch, v));
  const Matrix y = b.forward(xs, h.mode);
  REQUIRE(y.rows() == h.batch);
  REQUIRE(y.cols() == b.out_shape.size());
  REQUIRE(y.size() == static_cast<Index>(h.y.size()));
  for (Index i = 0; i < y.size(); ++i) {
    INFO("y[" << i << "]");
    CHECK(y.data()[i] == doctest::Approx(h.y[static_cast<std::size_t>(i)]).epsilon(1e-5));
  }
  for (std::size_t t = 0; t < h.buffers_after.size(); ++t)
    for (std::size_t k = 0; k < h.buffers_after[t].size(); ++k) {
      INFO(b.buffer_specs[t].name << "[" << k << "]");
      CHECK(b.buffer(t)[k] == doctest::Approx(h.buffers_after[t][k]).epsilon(1e-5));
    }
}

void check_gradients(const LayerCase& lc, Mode mode) {
  LayerBench b = make_bench(lc.config, lc.shapes);
  Rng rng(2024);
  randomize_state(b, rng);
  const std::vector<Matrix> xs =
      lc.distinct_inputs ? distinct_inputs(lc.shapes, 4, rng) : random_inputs(lc.shapes, 4, lc.positive_inputs, rng);
  const GradCheckResult r = gradient_check(b, xs, mode);
  INFO("worst: " << r.worst);
  CHECK(r.checked > 0);
  CHECK(r.worst_ratio <= 1.0);
  CHECK(r.grads_accumulate);
}

// One ctest entry per layer and check, so the test list names every layer's gradient check.
// LAYER_TESTS also records the name, and the coverage test below fails for a registered layer
// that has no LAYER_TESTS line (or a line whose layer is not registered).
std::set<std::string>& listed_layers() {
  static std::set<std::string> names;
  return names;
}

bool list_layer(const char* name, bool mode_dependent) {
  listed_layers().insert(name);
  const auto cases = layer_cases();
  return cases.count(name) == 1 && cases.at(name).mode_dependent == mode_dependent;
}

void hand_case(const char* name) {
  const auto cases = layer_cases();
  REQUIRE(cases.count(name) == 1);
  check_hand_case(cases.at(name));
}

void gradient_case(const char* name, Mode mode) {
  const auto cases = layer_cases();
  REQUIRE(cases.count(name) == 1);
  check_gradients(cases.at(name), mode);
}

}  // namespace

#define LAYER_TESTS(NAME)                                                                \
  static const bool listed_##NAME = list_layer(#NAME, false);                            \
  TEST_CASE("layer " #NAME ": forward on a hand-computed example") { hand_case(#NAME); } \
  TEST_CASE("layer " #NAME ": gradient check (train mode)") {                            \
    CHECK(listed_##NAME);                                                                \
    gradient_case(#NAME, Mode::train);                                                   \
  }

// Layers whose forward differs between train and eval mode get the eval-mode check as well.
#define MODE_LAYER_TESTS(NAME)                                                           \
  static const bool listed_##NAME = list_layer(#NAME, true);                             \
  TEST_CASE("layer " #NAME ": forward on a hand-computed example") { hand_case(#NAME); } \
  TEST_CASE("layer " #NAME ": gradient check (train mode)") {                            \
    CHECK(listed_##NAME);                                                                \
    gradient_case(#NAME, Mode::train);                                                   \
  }                                                                                      \
  TEST_CASE("layer " #NAME ": gradient check (eval mode)") { gradient_case(#NAME, Mode::eval); }

LAYER_TESTS(affine)
LAYER_TESTS(relu)
LAYER_TESTS(leaky_relu)
LAYER_TESTS(sigmoid)
LAYER_TESTS(tanh)
LAYER_TESTS(softmax)
MODE_LAYER_TESTS(dropout)
MODE_LAYER_TESTS(batchnorm)
LAYER_TESTS(add)
LAYER_TESTS(mul)
LAYER_TESTS(exp)
LAYER_TESTS(pow)
LAYER_TESTS(scale)
LAYER_TESTS(conv2d)
LAYER_TESTS(maxpool2d)
LAYER_TESTS(avgpool2d)
LAYER_TESTS(global_avg_pool)
LAYER_TESTS(flatten)

TEST_CASE("layers: every registered layer has a test case") {
  const auto cases = layer_cases();
  for (const std::string& name : layer_registry().names()) {
    INFO("registered layer \"" << name << "\" has no entry in layer_cases() of test_layers.cpp");
    CHECK(cases.count(name) == 1);
    INFO("registered layer \"" << name << "\" has no LAYER_TESTS line in test_layers.cpp");
    CHECK(listed_layers().count(name) == 1);
  }
  for (const auto& [name, lc] : cases) {
    INFO("layer_cases() entry \"" << name << "\" is not registered");
    CHECK(layer_registry().contains(name));
  }
  for (const auto& name : listed_layers()) {
    INFO("LAYER_TESTS(" << name << ") names a layer that is not registered");
    CHECK(layer_registry().contains(name));
  }
}
