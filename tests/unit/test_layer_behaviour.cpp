// Layer behaviour beyond the per-layer table of test_layers.cpp: the textbook mul/add graph,
// config errors, the assign/add contract of backward, default inits, dropout's mask,
// batchnorm on [C, H, W], and inputs shared by both sides of a two-input node.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "layer_bench.h"
#include "nettrain/core/config_node.h"
#include "nettrain/core/errors.h"
#include "nettrain/core/parallel.h"
#include "nettrain/layers/registry.h"

using namespace nettrain;
using namespace nettrain::test;
using json = nlohmann::json;

namespace {

Matrix scalar(float v) { return Matrix::Constant(1, 1, v); }

}  // namespace

TEST_CASE("layers: the textbook apple/orange graph through mul and add") {
  // apples 100 × 2 + oranges 150 × 3 = 650, × tax 1.1 = 715.
  LayerBench mul_apple = make_bench(json{{"type", "mul"}}, {Shape{1}, Shape{1}});
  LayerBench mul_orange = make_bench(json{{"type", "mul"}}, {Shape{1}, Shape{1}});
  LayerBench add = make_bench(json{{"type", "add"}}, {Shape{1}, Shape{1}});
  LayerBench mul_tax = make_bench(json{{"type", "mul"}}, {Shape{1}, Shape{1}});
  const Matrix apple = scalar(100), apple_count = scalar(2), orange = scalar(150), orange_count = scalar(3),
               tax = scalar(1.1f);
  const Context ctx{Mode::train, nullptr};
  Matrix apple_price, orange_price, all_price, price;
  mul_apple.layer->forward(std::vector<const Matrix*>{&apple, &apple_count}, apple_price, ctx);
  mul_orange.layer->forward(std::vector<const Matrix*>{&orange, &orange_count}, orange_price, ctx);
  add.layer->forward(std::vector<const Matrix*>{&apple_price, &orange_price}, all_price, ctx);
  mul_tax.layer->forward(std::vector<const Matrix*>{&all_price, &tax}, price, ctx);
  CHECK(all_price(0, 0) == doctest::Approx(650));
  CHECK(price(0, 0) == doctest::Approx(715));

  const Matrix dprice = scalar(1);
  Matrix dall_price, dtax, dapple_price, dorange_price, dapple, dapple_count, dorange, dorange_count;
  mul_tax.layer->backward(std::vector<const Matrix*>{&all_price, &tax}, price, dprice,
                          std::vector<Matrix*>{&dall_price, &dtax});
  add.layer->backward(std::vector<const Matrix*>{&apple_price, &orange_price}, all_price, dall_price,
                      std::vector<Matrix*>{&dapple_price, &dorange_price});
  mul_apple.layer->backward(std::vector<const Matrix*>{&apple, &apple_count}, apple_price, dapple_price,
                            std::vector<Matrix*>{&dapple, &dapple_count});
  mul_orange.layer->backward(std::vector<const Matrix*>{&orange, &orange_count}, orange_price, dorange_price,
                             std::vector<Matrix*>{&dorange, &dorange_count});
  CHECK(dapple(0, 0) == doctest::Approx(2.2));
  CHECK(dapple_count(0, 0) == doctest::Approx(110));
  CHECK(dorange(0, 0) == doctest::Approx(3.3));
  CHECK(dorange_count(0, 0) == doctest::Approx(165));
  CHECK(dtax(0, 0) == doctest::Approx(650));
}

TEST_CASE("layers: config errors say where and what") {
  CHECK(config_error(json{{"type", "affine"}, {"units", 4}, {"unit", 3}}, {Shape{2}}) ==
        "test.json: /model/layers/0/unit: unknown key \"unit\" (did you mean \"units\"?)");
  CHECK(config_error(json{{"type", "affine"}, {"units", -3}}, {Shape{2}}) ==
        "test.json: /model/layers/0/units: expected a positive integer, got -3");
  CHECK(config_error(json{{"type", "affine"}}, {Shape{2}}) ==
        "test.json: /model/layers/0/units: required key is missing");
  CHECK(config_error(json{{"type", "affine"}, {"units", 4}, {"init", "he_normall"}}, {Shape{2}})
            .find("(did you mean \"he_normal\"?)") != std::string::npos);
  CHECK(config_error(json{{"type", "affine"}, {"units", 4}, {"std", 0.1}}, {Shape{2}}) ==
        "test.json: /model/layers/0/std: only used with \"init\": \"normal\", got init \"xavier_uniform\"");
  CHECK(config_error(json{{"type", "dropout"}, {"rate", 1.0}}, {Shape{2}}) ==
        "test.json: /model/layers/0/rate: expected a number in [0, 1), got 1");
  CHECK(config_error(json{{"type", "batchnorm"}, {"momentum", 1.5}}, {Shape{2}}) ==
        "test.json: /model/layers/0/momentum: expected a number in [0, 1], got 1.5");
  CHECK(config_error(json{{"type", "exp"}, {"base", 0}}, {Shape{2}}) ==
        "test.json: /model/layers/0/base: expected a number > 0, got 0");
  CHECK(config_error(json{{"type", "relu"}, {"slope", 0.1}}, {Shape{2}}).find("unknown key \"slope\"") !=
        std::string::npos);
  CHECK(config_error(json{{"type", "add"}}, {Shape{16}, Shape{8}}) == "inputs have different shapes: [16] and [8]");
  CHECK(config_error(json{{"type", "mul"}}, {Shape{16}}) == "expected 2 inputs, got 1");
  CHECK(config_error(json{{"type", "batchnorm"}}, {Shape{2, 3}}) ==
        "expected an input of shape [features] or [channels, height, width], got [2, 3]");

  const json bad = {{"type", "affien"}};
  const ConfigNode node(bad, "/model/layers/1", "net.json");
  std::string known;
  for (const std::string& n : layer_registry().names()) known += (known.empty() ? "" : ", ") + n;
  CHECK_THROWS_WITH_AS(
      layer_registry().create("affien", node),
      ("net.json: /model/layers/1/type: unknown layer type \"affien\" (did you mean \"affine\"?); known: " + known)
          .c_str(),
      ConfigError);
}

TEST_CASE("layers: affine backward adds into parameter grads and assigns dx") {
  LayerBench b = make_bench(json{{"type", "affine"}, {"units", 2}}, {Shape{3}});
  Rng rng(5);
  randomize_state(b, rng);
  const std::vector<Matrix> xs = random_inputs({Shape{3}}, 4, false, rng);
  const Matrix y = b.forward(xs, Mode::train);
  const Matrix dy = random_inputs({Shape{2}}, 4, false, rng)[0];
  Matrix dx = Matrix::Constant(4, 3, 7.0f);
  const std::vector<const Matrix*> xp{&xs[0]};
  b.layer->backward(xp, y, dy, std::vector<Matrix*>{&dx});
  const std::vector<float> once = b.grads;
  const Matrix dx_once = dx;
  b.layer->backward(xp, y, dy, std::vector<Matrix*>{&dx});
  for (std::size_t k = 0; k < once.size(); ++k) CHECK(b.grads[k] == doctest::Approx(2 * once[k]));
  CHECK(dx.isApprox(dx_once));
  const ConstMatrixMap W(b.param(0), 3, 2);
  CHECK(dx_once.isApprox(dy * W.transpose()));
}

TEST_CASE("layers: tensor specs and default inits") {
  // The rectifiers declare that the weight layer feeding them wants He's init; nothing else does.
  for (const char* name : {"relu", "leaky_relu"})
    CHECK(make_bench(json{{"type", name}}, {Shape{4}}).layer->wants_he_init());
  for (const char* name : {"sigmoid", "tanh", "softmax", "dropout", "batchnorm", "scale"})
    CHECK_FALSE(make_bench(json{{"type", name}}, {Shape{4}}).layer->wants_he_init());
  LayerBench a = make_bench(json{{"type", "affine"}, {"units", 5}}, {Shape{2, 3, 4}});
  REQUIRE(a.param_specs.size() == 2);
  CHECK(a.out_shape == Shape{5});
  CHECK(a.param_specs[0].name == "weight");
  CHECK(a.param_specs[0].shape == std::vector<Index>{24, 5});
  CHECK(a.param_specs[0].init.name == "xavier_uniform");
  CHECK(a.param_specs[0].init.fan_in == 24);
  CHECK(a.param_specs[0].init.fan_out == 5);
  CHECK(a.param_specs[1].name == "bias");
  CHECK(a.param_specs[1].init.name == "zeros");
  a.layer->set_default_init(true);
  CHECK(a.layer->parameters()[0].init.name == "he_normal");
  a.layer->set_default_init(true);
  CHECK(a.layer->parameters()[0].init.name == "he_normal");
  a.layer->set_default_init(false);
  CHECK(a.layer->parameters()[0].init.name == "xavier_uniform");
  CHECK(a.layer->describe() == "units=5 init=xavier_uniform");

  LayerBench n =
      make_bench(json{{"type", "affine"}, {"units", 2}, {"init", "normal"}, {"std", 0.5}, {"bias", false}}, {Shape{3}});
  n.layer->set_default_init(true);  // the user's init wins
  REQUIRE(n.layer->parameters().size() == 1);
  CHECK(n.layer->parameters()[0].init.name == "normal");
  CHECK(n.layer->parameters()[0].init.std == 0.5);
  CHECK(n.layer->describe() == "units=2 init=normal std=0.5 bias=false");

  LayerBench bn = make_bench(json{{"type", "batchnorm"}}, {Shape{3, 2, 2}});
  REQUIRE(bn.param_specs.size() == 2);
  REQUIRE(bn.buffer_specs.size() == 2);
  CHECK(bn.param_specs[0].name == "weight");
  CHECK(bn.param_specs[0].init.name == "ones");
  CHECK(bn.param_specs[1].init.name == "zeros");
  CHECK(bn.buffer_specs[0].name == "running_mean");
  CHECK(bn.buffer_specs[0].init.name == "zeros");
  CHECK(bn.buffer_specs[1].name == "running_var");
  CHECK(bn.buffer_specs[1].init.name == "ones");
  CHECK(bn.buffer_specs[1].shape == std::vector<Index>{3});
}

TEST_CASE("layers: dropout draws its mask from ctx.rng and scales kept values") {
  const float rate = 0.25f;
  LayerBench b = make_bench(json{{"type", "dropout"}, {"rate", rate}}, {Shape{40}});
  const std::vector<Matrix> xs{Matrix::Constant(50, 40, 1.0f)};
  const Matrix y = b.forward(xs, Mode::train, 77);
  Rng expected_rng(77);
  const std::uint64_t key = expected_rng.next_u64();  // one draw per forward: the mask's key
  Index kept = 0;
  bool same_mask = true;
  for (Index i = 0; i < y.size(); ++i) {
    const bool keep = Rng::uniform_at(key, static_cast<std::uint64_t>(i)) >= rate;
    kept += keep ? 1 : 0;
    same_mask = same_mask && y.data()[i] == (keep ? 1.0f / (1.0f - rate) : 0.0f);
  }
  CHECK(same_mask);
  // 2000 Bernoulli(0.75) draws: the kept fraction has a standard deviation of ~0.01.
  CHECK(static_cast<double>(kept) / 2000.0 == doctest::Approx(0.75).epsilon(0.05));

  const Matrix dy = Matrix::Constant(50, 40, 2.0f);
  Matrix dx;
  b.layer->backward(std::vector<const Matrix*>{&xs[0]}, y, dy, std::vector<Matrix*>{&dx});
  CHECK(dx.isApprox(2.0f * y));

  Matrix out;
  CHECK_THROWS_AS(b.layer->forward(std::vector<const Matrix*>{&xs[0]}, out, Context{Mode::train, nullptr}),
                  std::logic_error);
  CHECK_NOTHROW(b.layer->forward(std::vector<const Matrix*>{&xs[0]}, out, Context{Mode::eval, nullptr}));
}

TEST_CASE("layers: batchnorm normalises each channel of [C, H, W] over batch × H × W") {
  LayerBench b = make_bench(json{{"type", "batchnorm"}}, {Shape{2, 2, 2}});
  std::fill(b.param(0), b.param(0) + 2, 1.0f);  // γ = 1, β = 0
  b.buffer(1)[0] = b.buffer(1)[1] = 1.0f;
  // Channel 0 holds 1..4 and 5..8: μ = 4.5, σ² = (0.25 + 2.25 + 6.25 + 12.25)·2/8 = 5.25.
  // Channel 1 holds 2,2,2,2 and 4,4,4,4: μ = 3, σ² = 1.
  const std::vector<Matrix> xs{(Matrix(2, 8) << 1, 2, 3, 4, 2, 2, 2, 2, 5, 6, 7, 8, 4, 4, 4, 4).finished()};
  const Matrix y = b.forward(xs, Mode::train);
  const float s0 = std::sqrt(5.25f + 1e-5f), s1 = std::sqrt(1.0f + 1e-5f);
  for (Index r = 0; r < 2; ++r)
    for (Index k = 0; k < 4; ++k) {
      CHECK(y(r, k) == doctest::Approx((xs[0](r, k) - 4.5f) / s0).epsilon(1e-5));
      CHECK(y(r, 4 + k) == doctest::Approx((xs[0](r, 4 + k) - 3.0f) / s1).epsilon(1e-5));
    }
  // Running variance takes the unbiased estimate: 5.25·8/7 = 6.
  CHECK(b.buffer(0)[0] == doctest::Approx(0.45));
  CHECK(b.buffer(1)[0] == doctest::Approx(0.9 + 0.1 * 6.0));

  for (Mode mode : {Mode::train, Mode::eval}) {
    LayerBench g = make_bench(json{{"type", "batchnorm"}, {"momentum", 0.8}}, {Shape{2, 2, 3}});
    Rng rng(11);
    randomize_state(g, rng);
    const GradCheckResult r = gradient_check(g, random_inputs({Shape{2, 2, 3}}, 3, false, rng), mode);
    INFO((mode == Mode::train ? "train" : "eval") << " worst: " << r.worst);
    CHECK(r.worst_ratio <= 1.0);
    CHECK(r.grads_accumulate);
  }
}

TEST_CASE("layers: the same matrix on both inputs of mul and add (x·x, x + x)") {
  Rng rng(3);
  const std::vector<Matrix> xs = random_inputs({Shape{4}}, 2, false, rng);
  const Matrix dy = random_inputs({Shape{4}}, 2, false, rng)[0];
  const std::vector<const Matrix*> same{&xs[0], &xs[0]};
  for (const char* type : {"mul", "add"}) {
    INFO(type);
    LayerBench b = make_bench(json{{"type", type}}, {Shape{4}, Shape{4}});
    Matrix y, dx0, dx1;
    b.layer->forward(same, y, Context{});
    b.layer->backward(same, y, dy, std::vector<Matrix*>{&dx0, &dx1});
    const bool is_mul = std::string(type) == "mul";
    const Matrix expected_y = is_mul ? Matrix(xs[0].cwiseProduct(xs[0])) : Matrix(2.0f * xs[0]);
    const Matrix expected_dx = is_mul ? Matrix(2.0f * dy.cwiseProduct(xs[0])) : Matrix(2.0f * dy);
    CHECK(y.isApprox(expected_y));
    CHECK((dx0 + dx1).isApprox(expected_dx));
    // A gradient buffer that is dy itself must not corrupt the other gradient.
    Matrix dy_inplace = dy, other;
    b.layer->backward(same, y, dy_inplace, std::vector<Matrix*>{&dy_inplace, &other});
    CHECK((dy_inplace + other).isApprox(expected_dx));
  }
}

TEST_CASE("layers: exp defaults to base e; pow with an integer exponent takes negative inputs") {
  LayerBench e = make_bench(json{{"type", "exp"}}, {Shape{2}});
  const Matrix ye = e.forward({(Matrix(1, 2) << 0, 1).finished()}, Mode::train);
  CHECK(ye(0, 0) == doctest::Approx(1));
  CHECK(ye(0, 1) == doctest::Approx(2.718281828).epsilon(1e-6));

  LayerBench p = make_bench(json{{"type", "pow"}, {"exponent", 3}}, {Shape{3}});
  const Matrix yp = p.forward({(Matrix(1, 3) << -2, 0.5f, 3).finished()}, Mode::train);
  CHECK(yp(0, 0) == doctest::Approx(-8));
  CHECK(yp(0, 1) == doctest::Approx(0.125));
  CHECK(yp(0, 2) == doctest::Approx(27));
  Rng rng(8);
  const GradCheckResult r = gradient_check(p, random_inputs({Shape{3}}, 3, false, rng), Mode::train);
  INFO("worst: " << r.worst);
  CHECK(r.worst_ratio <= 1.0);

  LayerBench p0 = make_bench(json{{"type", "pow"}, {"exponent", 0}}, {Shape{2}});
  const Matrix x0 = (Matrix(1, 2) << 0, 2).finished();
  const Matrix y0 = p0.forward({x0}, Mode::train);
  Matrix dx0;
  p0.layer->backward(std::vector<const Matrix*>{&x0}, y0, Matrix::Ones(1, 2), std::vector<Matrix*>{&dx0});
  CHECK(dx0.isZero());  // not 0·0^{-1} = NaN
}

TEST_CASE("layers: dropout on a slice of a global batch keeps that slice's rows of the global mask") {
  // Data parallelism: a process holding rows [20, 35) of a 50-row batch draws the same mask rows
  // as one process drawing the whole batch, and leaves the stream where that process leaves it.
  LayerBench b = make_bench(json{{"type", "dropout"}, {"rate", 0.5}}, {Shape{40}});
  const Matrix x = Matrix::Constant(50, 40, 1.0f);
  Rng whole_rng(77), slice_rng(77);
  Matrix whole, slice;
  b.layer->forward(std::vector<const Matrix*>{&x}, whole, Context{Mode::train, &whole_rng});
  const Matrix rows = x.middleRows(20, 15);
  b.layer->forward(std::vector<const Matrix*>{&rows}, slice, Context{Mode::train, &slice_rng, nullptr, 20, 50});
  CHECK(slice == whole.middleRows(20, 15));
  CHECK(slice_rng.state() == whole_rng.state());
}

TEST_CASE("layers: dropout's mask is the same bits on 1 and 2 threads and keeps 1 - rate of a large batch") {
  // 300 x 400 = 120,000 elements: several ranges of the pool with 2 threads.
  LayerBench b = make_bench(json{{"type", "dropout"}, {"rate", 0.3}}, {Shape{400}});
  const std::vector<Matrix> xs{Matrix::Constant(300, 400, 1.0f)};
  set_num_threads(1);
  const Matrix one = b.forward(xs, Mode::train, 5);
  set_num_threads(2);
  const Matrix two = b.forward(xs, Mode::train, 5);
  set_num_threads(1);
  CHECK(one == two);
  CHECK(one != b.forward(xs, Mode::train, 6));  // another key, another mask
  // Bernoulli(0.7) over 120,000 elements: a standard deviation of 0.0013 on the kept fraction.
  const double kept = static_cast<double>((one.array() > 0.0f).count()) / 120000.0;
  CHECK(kept == doctest::Approx(0.7).epsilon(0.01));
  // Neighbouring rows and columns are not copies of each other.
  CHECK(one.topRows(1) != one.middleRows(1, 1));
  CHECK(one.leftCols(1) != one.middleCols(1, 1));
}

TEST_CASE("layers: batchnorm sums its batch statistics across processes through ctx.collective") {
  // Two processes with identical rows see the statistics of one: the same output and input
  // gradient bits (every sum and count doubles exactly), while the parameter gradients hold
  // this process's rows only (the trainer sums them across processes afterwards).
  Rng rng(5);
  const std::vector<Matrix> xs = random_inputs({Shape{3, 2, 2}}, 6, false, rng);
  const Matrix dy = random_inputs({Shape{3, 2, 2}}, 6, false, rng)[0];
  auto run = [&](Collective* c, Matrix& y, Matrix& dx) {
    LayerBench b = make_bench(json{{"type", "batchnorm"}}, {Shape{3, 2, 2}});
    std::fill(b.param(0), b.param(0) + 3, 1.5f);
    b.layer->forward(std::vector<const Matrix*>{&xs[0]}, y, Context{Mode::train, nullptr, c, 0, c ? 12 : 0});
    b.layer->backward(std::vector<const Matrix*>{&xs[0]}, y, dy, std::vector<Matrix*>{&dx});
    return std::vector<float>(b.grads.begin(), b.grads.end());
  };
  Matrix y1, dx1, y2, dx2;
  TwinProcesses twins;
  const std::vector<float> g1 = run(nullptr, y1, dx1);
  const std::vector<float> g2 = run(&twins, y2, dx2);
  CHECK(twins.calls == 3);  // the mean, the variance, the backward sums
  CHECK(y1 == y2);
  CHECK(dx1 == dx2);
  CHECK(g1 == g2);
}
