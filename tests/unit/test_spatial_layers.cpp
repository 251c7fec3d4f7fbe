// conv2d, pooling, flatten and global_avg_pool beyond the per-layer table of test_layers.cpp:
// output shapes for stride and padding, "same" padding, gradient checks with stride, padding
// and non-square kernels, max-pool routing with ties, the layer table text and config errors.
#include <doctest/doctest.h>

#include "layer_bench.h"
#include "nettrain/core/errors.h"
#include "nettrain/layers/network.h"
#include "nettrain/core/parallel.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

using namespace nettrain;
using namespace nettrain::test;
using json = nlohmann::json;

namespace {

Shape out_shape(const json& config, const Shape& in) { return make_bench(config, {in}).out_shape; }

Matrix iota_row(Index n) {
  Matrix x(1, n);
  for (Index i = 0; i < n; ++i) x(0, i) = static_cast<float>(i + 1);
  return x;
}

void check_grad(const json& config, const Shape& in, bool distinct = false) {
  LayerBench b = make_bench(config, {in});
  Rng rng(7);
  randomize_state(b, rng);
  const std::vector<Matrix> xs = distinct ? distinct_inputs({in}, 3, rng) : random_inputs({in}, 3, false, rng);
  const GradCheckResult r = gradient_check(b, xs, Mode::train);
  INFO(config.dump() << " worst: " << r.worst);
  CHECK(r.worst_ratio <= 1.0);
  CHECK(r.grads_accumulate);
}

}  // namespace

TEST_CASE("conv2d/pool: output shapes for stride and padding") {
  CHECK(out_shape(json{{"type", "conv2d"}, {"filters", 30}, {"kernel", 5}}, Shape{1, 28, 28}) == Shape{30, 24, 24});
  CHECK(out_shape(json{{"type", "conv2d"}, {"filters", 4}, {"kernel", 5}, {"stride", 2}}, Shape{1, 28, 28}) ==
        Shape{4, 12, 12});
  CHECK(out_shape(json{{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}, {"padding", "same"}}, Shape{3, 13, 7}) ==
        Shape{4, 13, 7});
  CHECK(out_shape(json{{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}, {"stride", 2}, {"padding", "same"}},
                  Shape{1, 5, 6}) == Shape{4, 3, 3});
  CHECK(out_shape(json{{"type", "conv2d"},
                       {"filters", 2},
                       {"kernel", json::array({3, 1})},
                       {"stride", json::array({1, 2})},
                       {"padding", json::array({1, 0})}},
                  Shape{1, 6, 7}) == Shape{2, 6, 4});
  CHECK(out_shape(json{{"type", "maxpool2d"}}, Shape{32, 13, 13}) == Shape{32, 6, 6});
  CHECK(out_shape(json{{"type", "maxpool2d"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}}, Shape{8, 28, 28}) ==
        Shape{8, 14, 14});
  CHECK(out_shape(json{{"type", "avgpool2d"}, {"kernel", json::array({2, 1})}}, Shape{2, 4, 4}) == Shape{2, 2, 4});
  CHECK(out_shape(json{{"type", "global_avg_pool"}}, Shape{64, 7, 7}) == Shape{64});
  CHECK(out_shape(json{{"type", "flatten"}}, Shape{64, 5, 5}) == Shape{1600});
}

TEST_CASE("conv2d: \"same\" padding puts (k - 1)/2 before and the rest after") {
  // x = 1..16 as 4x4, kernel 2x2 of ones: padding 0 before, 1 after; kernel 3x3: 1 on each side.
  LayerBench b2 =
      make_bench(json{{"type", "conv2d"}, {"filters", 1}, {"kernel", 2}, {"padding", "same"}}, {Shape{1, 4, 4}});
  std::fill(b2.param(0), b2.param(0) + 4, 1.0f);
  const Matrix y2 = b2.forward({iota_row(16)}, Mode::train);
  REQUIRE(y2.cols() == 16);
  CHECK(y2(0, 0) == 1 + 2 + 5 + 6);
  CHECK(y2(0, 3) == 4 + 8);
  CHECK(y2(0, 12) == 13 + 14);
  CHECK(y2(0, 15) == 16);
  LayerBench b3 =
      make_bench(json{{"type", "conv2d"}, {"filters", 1}, {"kernel", 3}, {"padding", "same"}}, {Shape{1, 4, 4}});
  std::fill(b3.param(0), b3.param(0) + 9, 1.0f);
  const Matrix y3 = b3.forward({iota_row(16)}, Mode::train);
  CHECK(y3(0, 0) == 1 + 2 + 5 + 6);
  CHECK(y3(0, 5) == 1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11);
  CHECK(y3(0, 15) == 11 + 12 + 15 + 16);
}

TEST_CASE("conv2d: stride 2 with padding 1 on a hand example") {
  // 3x3 input 1..9 padded to 5x5, kernel 3x3 of ones, stride 2: windows cover input rows/cols
  // {0,1} or {1,2}: 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28.
  LayerBench b = make_bench(
      json{{"type", "conv2d"}, {"filters", 1}, {"kernel", 3}, {"stride", 2}, {"padding", 1}, {"bias", false}},
      {Shape{1, 3, 3}});
  REQUIRE(b.out_shape == Shape{1, 2, 2});
  std::fill(b.param(0), b.param(0) + 9, 1.0f);
  const Matrix y = b.forward({iota_row(9)}, Mode::train);
  CHECK(y(0, 0) == 12);
  CHECK(y(0, 1) == 16);
  CHECK(y(0, 2) == 24);
  CHECK(y(0, 3) == 28);
}

TEST_CASE("conv2d/pool: gradient checks with stride, padding and non-square kernels") {
  check_grad(json{{"type", "conv2d"}, {"filters", 3}, {"kernel", 3}, {"padding", "same"}}, Shape{2, 4, 5});
  check_grad(json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"stride", 2}, {"padding", 1}}, Shape{2, 5, 5});
  check_grad(json{{"type", "conv2d"},
                  {"filters", 2},
                  {"kernel", json::array({2, 3})},
                  {"stride", json::array({2, 1})},
                  {"bias", false}},
             Shape{1, 5, 6});
  check_grad(json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"stride", 2}, {"padding", "same"}},
             Shape{2, 6, 5});
  check_grad(json{{"type", "maxpool2d"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}}, Shape{2, 5, 5}, true);
  check_grad(json{{"type", "maxpool2d"}, {"kernel", json::array({2, 3})}}, Shape{2, 4, 7}, true);
  check_grad(json{{"type", "maxpool2d"}}, Shape{2, 5, 7}, true);  // the 2x2 fast path, odd sizes
  check_grad(json{{"type", "avgpool2d"}, {"kernel", 2}, {"stride", 1}, {"padding", 1}}, Shape{2, 4, 5});
}

TEST_CASE("conv2d: eval-mode forward and backward match train mode (no cached columns)") {
  LayerBench b = make_bench(json{{"type", "conv2d"}, {"filters", 3}, {"kernel", 3}, {"padding", 1}}, {Shape{2, 5, 5}});
  Rng rng(3);
  randomize_state(b, rng);
  const std::vector<Matrix> xs = random_inputs({Shape{2, 5, 5}}, 5, false, rng);
  const Matrix y_train = b.forward(xs, Mode::train);
  const Matrix y_eval = b.forward(xs, Mode::eval);
  CHECK((y_train - y_eval).cwiseAbs().maxCoeff() == 0.0f);
  const GradCheckResult r = gradient_check(b, xs, Mode::eval);
  INFO("worst: " << r.worst);
  CHECK(r.worst_ratio <= 1.0);
}

TEST_CASE("maxpool2d: backward routes each gradient to the first maximum of its window") {
  // Windows {1,3 | 3,0} and {2,2 | 2,1} hold ties: the gradient goes to the first in row-major
  // order (index 1 and index 2), never split.
  LayerBench b = make_bench(json{{"type", "maxpool2d"}}, {Shape{1, 4, 4}});
  Matrix x(1, 16);
  x << 1, 3, 2, 2, 3, 0, 2, 1, -1, -2, 5, 6, -3, -4, 7, 0;
  const Matrix y = b.forward({x}, Mode::train);
  Matrix dy(1, 4);
  dy << 10, 20, 30, 40;
  Matrix dx;
  const std::vector<const Matrix*> xp{&x};
  b.layer->backward(xp, y, dy, std::vector<Matrix*>{&dx});
  Matrix expected = Matrix::Zero(1, 16);
  expected(0, 1) = 10;
  expected(0, 2) = 20;
  expected(0, 8) = 30;
  expected(0, 14) = 40;
  CHECK(dx == expected);
}

TEST_CASE("maxpool2d: the 2x2 stride-2 path gives the first maximum, in train and eval mode") {
  // Values from {0, 1, 2} so that most windows hold ties; 7 x 9 leaves a row and a column out,
  // 6 x 35 has rows of 17 windows (more than one block of 8 and a partial one). A train-mode
  // forward keeps the routing for backward; after an eval-mode forward of other values, backward
  // must route by those values, not by what the train-mode forward kept.
  for (const auto& [C, H, W] : {std::array<Index, 3>{3, 7, 9}, std::array<Index, 3>{2, 6, 35}}) {
    const Index OH = H / 2, OW = W / 2;
    CAPTURE(W);
    LayerBench b = make_bench(json{{"type", "maxpool2d"}}, {Shape{C, H, W}});
    Rng rng(21);
    for (const Mode mode : {Mode::train, Mode::eval}) {
      CAPTURE(static_cast<int>(mode));
      Matrix x(4, C * H * W);
      for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.below(3));
      const Matrix y = b.forward({x}, mode);
      // dx holds NaN before: every cell, the row and column under no window included, is written.
      Matrix dy(4, C * OH * OW), dx = Matrix::Constant(4, C * H * W, std::nanf(""));
      for (Index i = 0; i < dy.size(); ++i) dy.data()[i] = static_cast<float>(i + 1);
      const std::vector<const Matrix*> xp{&x};
      b.layer->backward(xp, y, dy, std::vector<Matrix*>{&dx});
      Matrix want_y(4, C * OH * OW), want_dx = Matrix::Zero(4, C * H * W);
      for (Index n = 0; n < 4; ++n)
        for (Index c = 0; c < C; ++c)
          for (Index oh = 0; oh < OH; ++oh)
            for (Index ow = 0; ow < OW; ++ow) {
              Index at = (c * H + 2 * oh) * W + 2 * ow;
              for (Index a = 0; a < 2; ++a)
                for (Index e = 0; e < 2; ++e) {
                  const Index k = (c * H + 2 * oh + a) * W + 2 * ow + e;
                  if (x(n, k) > x(n, at)) at = k;
                }
              const Index o = (c * OH + oh) * OW + ow;
              want_y(n, o) = x(n, at);
              want_dx(n, at) += dy(n, o);
            }
      CHECK(y == want_y);
      CHECK(dx == want_dx);
    }
  }
}

TEST_CASE("maxpool2d: the 2x2 path's outputs with NaN and signed zeros are std::max's, bit for bit") {
  // Each window's output is std::max(std::max(a, b), std::max(c, d)) of its cells a b / c d:
  // NaN in a first operand wins, +0 and −0 keep the first, as the scalar path computes it.
  const float nan = std::nanf("");
  const std::array<float, 5> values{nan, -0.0f, 0.0f, 1.0f, -1.0f};
  const Index C = 2, H = 4, W = 38, OH = 2, OW = 19;
  LayerBench b = make_bench(json{{"type", "maxpool2d"}}, {Shape{C, H, W}});
  Rng rng(5);
  Matrix x(3, C * H * W);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = values[rng.below(5)];
  for (const Mode mode : {Mode::train, Mode::eval}) {
    const Matrix y = b.forward({x}, mode);
    int differ = 0;
    for (Index n = 0; n < 3; ++n)
      for (Index c = 0; c < C; ++c)
        for (Index oh = 0; oh < OH; ++oh)
          for (Index ow = 0; ow < OW; ++ow) {
            const Index at = (c * H + 2 * oh) * W + 2 * ow;
            const float want = std::max(std::max(x(n, at), x(n, at + 1)), std::max(x(n, at + W), x(n, at + W + 1)));
            const float got = y(n, (c * OH + oh) * OW + ow);
            differ += std::memcmp(&want, &got, sizeof(float)) != 0 ? 1 : 0;
          }
    CHECK(differ == 0);
  }
}

TEST_CASE("conv2d/pool: describe() for the layer table") {
  CHECK(make_bench(json{{"type", "conv2d"}, {"filters", 30}, {"kernel", 5}}, {Shape{1, 28, 28}}).layer->describe() ==
        "filters=30 kernel=5x5 stride=1 padding=valid init=xavier_uniform");
  CHECK(make_bench(json{{"type", "conv2d"},
                        {"filters", 8},
                        {"kernel", json::array({3, 1})},
                        {"stride", json::array({2, 1})},
                        {"padding", "same"},
                        {"bias", false},
                        {"init", "he_normal"}},
                   {Shape{1, 28, 28}})
            .layer->describe() == "filters=8 kernel=3x1 stride=2x1 padding=same init=he_normal bias=false");
  CHECK(make_bench(json{{"type", "maxpool2d"}}, {Shape{1, 4, 4}}).layer->describe() ==
        "kernel=2x2 stride=2 padding=valid");
  CHECK(make_bench(json{{"type", "avgpool2d"}, {"kernel", 3}, {"stride", 1}, {"padding", 1}}, {Shape{1, 4, 4}})
            .layer->describe() == "kernel=3x3 stride=1 padding=1");
}

TEST_CASE("conv2d: weight saved as {filters, C, kh, kw} with conv fans; he_normal before relu") {
  LayerBench b =
      make_bench(json{{"type", "conv2d"}, {"filters", 6}, {"kernel", json::array({5, 3})}}, {Shape{2, 9, 9}});
  REQUIRE(b.param_specs.size() == 2);
  CHECK(b.param_specs[0].shape == std::vector<Index>{6, 2, 5, 3});
  CHECK(b.param_specs[0].init.fan_in == 2 * 5 * 3);
  CHECK(b.param_specs[0].init.fan_out == 6 * 5 * 3);
  CHECK(b.param_specs[1].shape == std::vector<Index>{6});
  CHECK(b.param_specs[0].init.name == "xavier_uniform");
  b.layer->set_default_init(true);
  CHECK(b.layer->parameters()[0].init.name == "he_normal");
}

TEST_CASE("conv2d/pool: impossible shapes and bad keys are ConfigErrors with the numbers") {
  CHECK(config_error(json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 5}}, {Shape{1, 3, 3}}) ==
        "kernel 5x5 is larger than the input 3x3 (input [1, 3, 3])");
  CHECK(config_error(json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 5}, {"padding", 1}}, {Shape{1, 1, 1}}) ==
        "kernel 5x5 is larger than the padded input 3x3 (input [1, 1, 1])");
  CHECK(config_error(json{{"type", "maxpool2d"}, {"kernel", 3}}, {Shape{4, 2, 2}}) ==
        "kernel 3x3 is larger than the input 2x2 (input [4, 2, 2])");
  CHECK(config_error(json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"stride", 0}}, {Shape{1, 8, 8}}) ==
        "test.json: /model/layers/0/stride: expected a positive integer or [height, width], got 0");
  CHECK(config_error(json{{"type", "conv2d"}, {"filters", 2}, {"kernel", json::array({3, 3, 3})}}, {Shape{1, 8, 8}}) ==
        "test.json: /model/layers/0/kernel: expected a positive integer or [height, width], got an array of 3");
  CHECK(config_error(json{{"type", "conv2d"}, {"filters", 2}}, {Shape{1, 8, 8}}) ==
        "test.json: /model/layers/0/kernel: required key is missing");
  CHECK(config_error(json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"padding", "full"}}, {Shape{1, 8, 8}})
            .find("/model/layers/0/padding:") != std::string::npos);
  CHECK(config_error(json{{"type", "maxpool2d"}, {"padding", "same"}}, {Shape{1, 8, 8}})
            .find("/model/layers/0/padding:") != std::string::npos);
  CHECK(config_error(json{{"type", "maxpool2d"}, {"padding", 2}}, {Shape{1, 8, 8}}) ==
        "test.json: /model/layers/0/padding: padding 2x2 must be smaller than the kernel 2x2");
  const std::string rank =
      "expected an input of shape [channels, height, width], got [784] (set model.input_shape to e.g. [1, 28, 28])";
  CHECK(config_error(json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}}, {Shape{784}}) == rank);
  CHECK(config_error(json{{"type", "maxpool2d"}}, {Shape{784}}) == rank);
  CHECK(config_error(json{{"type", "avgpool2d"}}, {Shape{784}}) == rank);
  CHECK(config_error(json{{"type", "global_avg_pool"}}, {Shape{784}}) == rank);
}

TEST_CASE("conv2d: the network names the layer in shape errors; [1, 28, 28] feeds a CNN") {
  json model = {
      {"input_shape", {1, 28, 28}},
      {"layers", json::array({json{{"type", "conv2d"}, {"name", "c1"}, {"filters", 4}, {"kernel", 5}},
                              json{{"type", "maxpool2d"}}, json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 13}}})}};
  std::string message;
  try {
    Network::from_config(ConfigNode(model, "/model", "net.json"));
  } catch (const ConfigError& e) {
    message = e.what();
  }
  CHECK(message.find("kernel 13x13 is larger than the input 12x12") != std::string::npos);
  CHECK(message.find("layers.2") != std::string::npos);
  model["layers"][2]["kernel"] = 5;
  model["layers"].push_back(json{{"type", "flatten"}});
  model["layers"].push_back(json{{"type", "affine"}, {"units", 3}});
  Network net = Network::from_config(ConfigNode(model, "/model", "net.json"));
  CHECK(net.input_size() == 784);
  CHECK(net.output_shape() == Shape{3});
  net.init_params(1);
  const Matrix x = Matrix::Random(5, 784);
  CHECK(net.forward(x, Mode::train).rows() == 5);
}

namespace {

// conv2d's forward, dx, dW and db on a batch big enough for several chunks of samples, with
// `threads` threads in the pool.
struct ConvPass {
  Matrix y, dx;
  std::vector<float> grads;
};

ConvPass conv_pass(LayerBench& b, const Matrix& x, const Matrix& dy, int threads) {
  set_num_threads(threads);
  ConvPass p;
  p.y = b.forward({x}, Mode::train);
  std::fill(b.grads.begin(), b.grads.end(), 0.0f);
  const Matrix* xp = &x;
  Matrix* dxp = &p.dx;
  b.layer->backward(std::span<const Matrix* const>(&xp, 1), p.y, dy, std::span<Matrix* const>(&dxp, 1));
  p.grads = b.grads;
  set_num_threads(1);
  return p;
}

// Runs conv2d (F filters, kernel kh x kw, stride 1, padding top/left before, the rest after as
// the layer's `padding` gives it) on N samples of [C, H, W] with one and with two threads, and
// checks y, dx, dW and db against the direct sums in double, and the two thread counts against
// each other bit for bit.
void check_against_direct(const json& config, Index N, Index C, Index H, Index W, Index F, Index kh, Index kw,
                          Index top, Index left) {
  INFO(config.dump() << " on [" << C << ", " << H << ", " << W << "]");
  LayerBench b = make_bench(config, {Shape{C, H, W}});
  const Index OH = b.out_shape[1], OW = b.out_shape[2];
  Rng rng(11);
  randomize_state(b, rng);
  const Matrix x = random_inputs({Shape{C, H, W}}, N, false, rng)[0];
  const Matrix dy = random_inputs({b.out_shape}, N, false, rng)[0];
  const float* Wt = b.param(0);  // {F, C, kh, kw}
  const float* bias = b.param(1);
  // y[n,f,i,j] = b[f] + Σ W[f,c,u,v]·x[n,c,i+u-top,j+v-left]
  std::vector<double> y_ref(static_cast<std::size_t>(N * F * OH * OW)),
      dx_ref(static_cast<std::size_t>(N * C * H * W), 0.0), dW_ref(static_cast<std::size_t>(F * C * kh * kw), 0.0),
      db_ref(static_cast<std::size_t>(F), 0.0);
  // Σ|term| of each reference sum: a float sum of many terms may be off by a few roundings of it
  std::vector<double> y_size(y_ref.size()), dx_size(dx_ref.size(), 0.0), dW_size(dW_ref.size(), 0.0),
      db_size(db_ref.size(), 0.0);
  for (Index n = 0; n < N; ++n)
    for (Index f = 0; f < F; ++f)
      for (Index i = 0; i < OH; ++i)
        for (Index j = 0; j < OW; ++j) {
          double s = bias[f], s_size = std::abs(s);
          const double g = dy(n, (f * OH + i) * OW + j);
          db_ref[static_cast<std::size_t>(f)] += g;
          db_size[static_cast<std::size_t>(f)] += std::abs(g);
          for (Index c = 0; c < C; ++c)
            for (Index u = 0; u < kh; ++u)
              for (Index v = 0; v < kw; ++v) {
                const Index ii = i + u - top, jj = j + v - left;
                if (ii < 0 || ii >= H || jj < 0 || jj >= W) continue;
                const auto wi = static_cast<std::size_t>(((f * C + c) * kh + u) * kw + v);
                const auto xi = (c * H + ii) * W + jj;
                s += Wt[wi] * static_cast<double>(x(n, xi));
                s_size += std::abs(Wt[wi] * static_cast<double>(x(n, xi)));
                dW_ref[wi] += g * static_cast<double>(x(n, xi));
                dW_size[wi] += std::abs(g * static_cast<double>(x(n, xi)));
                dx_ref[static_cast<std::size_t>(n * C * H * W + xi)] += g * Wt[wi];
                dx_size[static_cast<std::size_t>(n * C * H * W + xi)] += std::abs(g * Wt[wi]);
              }
          y_ref[static_cast<std::size_t>((n * F + f) * OH * OW + i * OW + j)] = s;
          y_size[static_cast<std::size_t>((n * F + f) * OH * OW + i * OW + j)] = s_size;
        }
  const ConvPass one = conv_pass(b, x, dy, 1);
  auto close = [](double got, double want, double size) {
    return std::abs(got - want) <= 1e-5 * (1.0 + std::abs(want)) + 1e-6 * size;
  };
  int bad = 0;
  for (Index k = 0; k < one.y.size(); ++k) {
    const auto i = static_cast<std::size_t>(k);
    bad += close(one.y.data()[k], y_ref[i], y_size[i]) ? 0 : 1;
  }
  for (Index k = 0; k < one.dx.size(); ++k) {
    const auto i = static_cast<std::size_t>(k);
    bad += close(one.dx.data()[k], dx_ref[i], dx_size[i]) ? 0 : 1;
  }
  for (std::size_t k = 0; k < dW_ref.size(); ++k)
    bad += close(one.grads[b.param_offsets[0] + k], dW_ref[k], dW_size[k]) ? 0 : 1;
  for (std::size_t k = 0; k < db_ref.size(); ++k)
    bad += close(one.grads[b.param_offsets[1] + k], db_ref[k], db_size[k]) ? 0 : 1;
  CHECK(bad == 0);
  const ConvPass two = conv_pass(b, x, dy, 2);
  CHECK((two.y.array() == one.y.array()).all());
  CHECK((two.dx.array() == one.dx.array()).all());
  CHECK(two.grads == one.grads);
}

}  // namespace

TEST_CASE("conv2d: several chunks of samples on one and two threads match a direct convolution") {
  // [2, 7, 7], 3 filters 3x3 "same": 49 positions, so 41 samples per chunk and 3 chunks for 100.
  check_against_direct(json{{"type", "conv2d"}, {"filters", 3}, {"kernel", 3}, {"padding", "same"}}, 100, 2, 7, 7, 3, 3,
                       3, 1, 1);
}

TEST_CASE("conv2d: stride 1 with rows as wide as the input's, on images wider than 16 and with uneven padding") {
  // Several 16-position blocks per tap and a partial last one; taps reaching past the first and
  // the last channel's edges (where the AVX-512 path masks its loads and stores); an even kernel
  // ("same" puts 1 before and 2 after); a kernel one column wide with padding on rows only.
  check_against_direct(json{{"type", "conv2d"}, {"filters", 4}, {"kernel", 5}, {"padding", "same"}}, 9, 3, 6, 21, 4, 5,
                       5, 2, 2);
  check_against_direct(json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 4}, {"padding", "same"}}, 7, 2, 5, 18, 2, 4,
                       4, 1, 1);
  check_against_direct(
      json{{"type", "conv2d"}, {"filters", 3}, {"kernel", json::array({3, 1})}, {"padding", json::array({1, 0})}}, 6, 1,
      9, 33, 3, 3, 1, 1, 0);
}

TEST_CASE(
    "conv2d: the direct forward and weight gradient of 3x3 stride-1 layers with at most 3 channels in match a "
    "direct convolution") {
  // fashion-cnn's conv1 (rows of 28: two 16-column blocks, the second partial); rows of 33 (three
  // blocks) with 2 rows of padding and none across; 3 channels with "valid" padding; 1 sample.
  check_against_direct(json{{"type", "conv2d"}, {"filters", 5}, {"kernel", 3}, {"padding", "same"}}, 9, 1, 28, 28, 5, 3,
                       3, 1, 1);
  check_against_direct(json{{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}, {"padding", json::array({2, 0})}}, 6, 2,
                       7, 35, 4, 3, 3, 2, 0);
  check_against_direct(json{{"type", "conv2d"}, {"filters", 3}, {"kernel", 3}}, 5, 3, 9, 18, 3, 3, 3, 0, 0);
  check_against_direct(json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"padding", 2}}, 1, 1, 4, 17, 2, 3, 3, 2,
                       2);
}

TEST_CASE("conv2d: fashion-cnn's conv2 shape, with backward chunks of 5 and 6 samples, matches a direct convolution") {
  // Chunks of at most 10 samples, evened out to an even count: 23 samples make 4 chunks (5 and
  // 6 samples), so the 16x16 blocks of dY's transpose, its edges, and dW's chunk parts all run.
  check_against_direct(json{{"type", "conv2d"}, {"filters", 64}, {"kernel", 3}, {"padding", "same"}}, 23, 32, 14, 14,
                       64, 3, 3, 1, 1);
}

TEST_CASE("conv2d: Winograd's two samples at once give each sample's bytes alone (output and input gradient)") {
  // 3 samples: forward runs a pair and a single, backward's one chunk a pair for dx and a single.
  LayerBench b =
      make_bench(json{{"type", "conv2d"}, {"filters", 32}, {"kernel", 3}, {"padding", "same"}}, {Shape{16, 14, 14}});
  Rng rng(31);
  randomize_state(b, rng);
  Matrix x(3, 16 * 14 * 14), dy(3, 32 * 14 * 14);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.5);
  for (Index i = 0; i < dy.size(); ++i) dy.data()[i] = static_cast<float>(rng.uniform() - 0.5);
  const ConvPass all = conv_pass(b, x, dy, 2);
  for (Index n = 0; n < 3; ++n) {
    CAPTURE(n);
    const ConvPass one = conv_pass(b, x.middleRows(n, 1), dy.middleRows(n, 1), 1);
    CHECK(std::memcmp(one.y.data(), all.y.row(n).data(), sizeof(float) * static_cast<std::size_t>(one.y.size())) == 0);
    CHECK(std::memcmp(one.dx.data(), all.dx.row(n).data(), sizeof(float) * static_cast<std::size_t>(one.dx.size())) ==
          0);
  }
}

TEST_CASE("conv2d: Winograd's F(2x2, 3x3) (3x3 stride 1, 16 channels in and out) matches a direct convolution") {
  // Odd output sizes (a last tile half outside), no padding; rows of 30 (the widest the AVX-512
  // transforms take); rows of 33 with 2 rows of padding above and below and none across (the
  // scalar transforms; dx's convolution has no rows of padding before and 2 columns).
  check_against_direct(json{{"type", "conv2d"}, {"filters", 16}, {"kernel", 3}}, 5, 16, 9, 11, 16, 3, 3, 0, 0);
  check_against_direct(json{{"type", "conv2d"}, {"filters", 24}, {"kernel", 3}, {"padding", "same"}}, 3, 16, 5, 30, 24,
                       3, 3, 1, 1);
  check_against_direct(json{{"type", "conv2d"}, {"filters", 16}, {"kernel", 3}, {"padding", json::array({2, 0})}}, 4,
                       20, 6, 35, 16, 3, 3, 2, 0);
}
