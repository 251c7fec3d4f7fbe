// Network: graphs over named inputs, shape inference, graph errors with their messages,
// gradient summation where a value feeds several nodes, the flat parameter buffers.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "gemm.h"
#include "layer_bench.h"
#include "nettrain/core/errors.h"
#include "nettrain/core/parallel.h"
#include "nettrain/layers/network.h"
#include "nettrain/layers/registry.h"

using namespace nettrain;
using json = nlohmann::json;

namespace {

Network build(const json& model) { return Network::from_config(ConfigNode(model, "/model", "net.json")); }

std::string build_error(const json& model) {
  try {
    build(model);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

}  // namespace

TEST_CASE("network: the textbook apple/orange graph over five named inputs") {
  // apple 100 × 2 + orange 150 × 3 = 650; × tax 1.1 = 715.
  const json model = json::parse(R"({
    "inputs": [{"name": "apple", "shape": [1]}, {"name": "apple_count", "shape": [1]},
               {"name": "orange", "shape": [1]}, {"name": "orange_count", "shape": [1]},
               {"name": "tax", "shape": [1]}],
    "layers": [
      {"type": "mul", "name": "apple_price", "inputs": ["apple", "apple_count"]},
      {"type": "mul", "name": "orange_price", "inputs": ["orange", "orange_count"]},
      {"type": "add", "name": "sum", "inputs": ["apple_price", "orange_price"]},
      {"type": "mul", "name": "price", "inputs": ["sum", "tax"]}
    ]})");
  Network net = build(model);
  CHECK(net.input_size() == 5);
  CHECK(net.output_shape() == Shape{1});
  Matrix x(1, 5);
  x << 100, 2, 150, 3, 1.1f;
  const Matrix& y = net.forward(x, Mode::eval);
  CHECK(y(0, 0) == doctest::Approx(715.0).epsilon(1e-6));
  net.set_need_input_grad(true);
  net.zero_grads();
  net.backward(Matrix::Ones(1, 1));
  const Matrix& dx = net.input_grad();
  CHECK(dx(0, 0) == doctest::Approx(2.2).epsilon(1e-6));    // d/apple = count × tax
  CHECK(dx(0, 1) == doctest::Approx(110.0).epsilon(1e-6));  // d/apple_count = apple × tax
  CHECK(dx(0, 2) == doctest::Approx(3.3).epsilon(1e-6));
  CHECK(dx(0, 3) == doctest::Approx(165.0).epsilon(1e-6));
  CHECK(dx(0, 4) == doctest::Approx(650.0).epsilon(1e-6));  // d/tax = the sum
}

TEST_CASE("network: gradients are summed where a value feeds several inputs") {
  // y = add(2x, x) = 3x: the input is read by two nodes, so dL/dx = 2 + 1.
  Network a = build(json::parse(R"({"input_shape": [3], "layers": [
      {"type": "scale", "name": "twice", "factor": 2, "inputs": ["input"]},
      {"type": "add", "inputs": ["twice", "input"]}]})"));
  a.set_need_input_grad(true);
  Matrix x(2, 3);
  x << 1, 2, 3, -1, -2, -3;
  CHECK(a.forward(x, Mode::train).isApprox(3 * x));
  a.backward(Matrix::Ones(2, 3));
  CHECK(a.input_grad().isApprox(Matrix::Constant(2, 3, 3.0f)));

  // y = x ⊙ x through one mul node reading the same value twice: dL/dx = 2x.
  Network b = build(json::parse(R"({"input_shape": [3], "layers": [
      {"type": "scale", "name": "h", "factor": 1},
      {"type": "mul", "inputs": ["h", "h"]}]})"));
  b.set_need_input_grad(true);
  CHECK(b.forward(x, Mode::train).isApprox(x.cwiseProduct(x)));
  b.backward(Matrix::Ones(2, 3));
  CHECK(b.input_grad().isApprox(2 * x));
}

TEST_CASE("network: value gradients share storage only where their lives do not overlap") {
  // A chain of four [4] values: each gradient dies when its producer has run backward, so two
  // buffers of (batch, 4) serve the three gradients below the output.
  Network chain = build(json::parse(R"({"input_shape": [4], "layers": [
      {"type": "scale", "factor": 2}, {"type": "relu"}, {"type": "scale", "factor": 3}, {"type": "tanh"}]})"));
  Matrix x(5, 4);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = -1.0f + 0.1f * static_cast<float>(i);
  chain.forward(x, Mode::train);
  chain.backward(Matrix::Ones(5, 4));
  CHECK(chain.value_grad_floats() == 2 * 5 * 4);
  chain.set_need_input_grad(true);  // dL/dx takes the buffer dL/d(relu) has left
  chain.forward(x, Mode::train);
  chain.backward(Matrix::Ones(5, 4));
  CHECK(chain.value_grad_floats() == 2 * 5 * 4);
  const Matrix expect = ((6 * x.array().max(0.0f)).tanh().square() * -1 + 1) * 6 * (x.array() > 0).cast<float>();
  CHECK(chain.input_grad().isApprox(expect));

  // Equal widths whose gradients are live together: a = 2x feeds b = 3a, c = b + a and
  // y = (c/2) ⊙ a = (4x) ⊙ (2x) = 8x², so dL/dx = 16x with dL/dy = 1; then a new batch size.
  Network graph = build(json::parse(R"({"input_shape": [3], "layers": [
      {"type": "scale", "name": "a", "factor": 2, "inputs": ["input"]},
      {"type": "scale", "name": "b", "factor": 3, "inputs": ["a"]},
      {"type": "add", "name": "c", "inputs": ["b", "a"]},
      {"type": "scale", "name": "d", "factor": 0.5, "inputs": ["c"]},
      {"type": "mul", "inputs": ["d", "a"]}]})"));
  graph.set_need_input_grad(true);
  for (const Index rows : {2, 7, 2}) {
    CAPTURE(rows);
    Matrix in(rows, 3);
    for (Index i = 0; i < in.size(); ++i) in.data()[i] = -2.0f + 0.25f * static_cast<float>(i);
    CHECK(graph.forward(in, Mode::train).isApprox(8 * in.cwiseProduct(in)));
    graph.backward(Matrix::Ones(rows, 3));
    CHECK(graph.input_grad().isApprox(16 * in));
  }
}

TEST_CASE("network: graph errors name the layer and say what is wrong") {
  CHECK(build_error(json::parse(R"({"input_shape": [4], "layers": [
          {"type": "affine", "units": 3, "name": "fc"},
          {"type": "relu", "inputs": ["fcc"]}]})")) ==
        "net.json: /model/layers/1: layer \"layers.1\" (relu): unknown input \"fcc\" (did you mean \"fc\"?)");
  CHECK(build_error(json::parse(R"({"input_shape": [4], "layers": [
          {"type": "relu", "name": "a", "inputs": ["b"]},
          {"type": "relu", "name": "b", "inputs": ["a"]}]})")) ==
        "net.json: /model/layers/0: layer \"a\" (relu): input \"b\" is a later layer; a layer may only read inputs and "
        "earlier layers (no cycles or forward references)");
  CHECK(build_error(json::parse(R"({"input_shape": [4], "layers": [
          {"type": "relu", "name": "a", "inputs": ["a"]}]})"))
            .find("input \"a\" is this layer itself") != std::string::npos);
  CHECK(build_error(json::parse(R"({"input_shape": [4], "layers": [
          {"type": "relu", "name": "a"}, {"type": "relu", "name": "a"}]})")) ==
        "net.json: /model/layers/1: layer \"a\" (relu): duplicate name \"a\"");
  CHECK(build_error(json::parse(R"({"input_shape": [4], "layers": [
          {"type": "affine", "units": 16, "name": "wide"},
          {"type": "affine", "units": 8, "name": "narrow", "inputs": ["input"]},
          {"type": "add", "inputs": ["wide", "narrow"]}]})"))
            .find("inputs have different shapes: [16] and [8]") != std::string::npos);
  CHECK(build_error(json::parse(R"({"input_shape": [4], "layers": [
          {"type": "affine", "units": 16, "name": "dead"},
          {"type": "relu", "inputs": ["input"]}]})")) ==
        "net.json: /model/layers/0: layer \"dead\" (affine): its output is never used (only the last layer may be the "
        "output)");
  CHECK(build_error(json::parse(R"({"inputs": [{"name": "a", "shape": [2]}, {"name": "b", "shape": [2]}],
          "layers": [{"type": "relu"}]})"))
            .find("several inputs") != std::string::npos);
  CHECK(build_error(json::parse(R"({"input_shape": [4], "layers": [{"type": "add", "inputs": ["input"]}]})"))
            .find("expected 2 input(s), got 1") != std::string::npos);
  CHECK(build_error(json::parse(R"({"input_shape": [0], "layers": [{"type": "relu"}]})")) ==
        "net.json: /model/input_shape/0: expected a positive size up to 16777216, got 0");
  CHECK(build_error(json::parse(R"({"layers": [{"type": "relu"}]})")) ==
        "net.json: /model: expected exactly one of \"input_shape\" and \"inputs\"");
  CHECK(build_error(json::parse(R"({"input_shape": [4], "layers": []})")) ==
        "net.json: /model/layers: expected a non-empty array of layers");
}

TEST_CASE("network: one contiguous parameter buffer that the layers read") {
  Network net = build(json::parse(R"({"input_shape": [3], "layers": [
      {"type": "affine", "units": 4, "name": "fc1"}, {"type": "batchnorm", "name": "bn"}, {"type": "relu"},
      {"type": "affine", "units": 2, "name": "fc2"}]})"));
  // fc1: 3·4 + 4, bn: 4 + 4 (+ 8 buffers), fc2: 4·2 + 2.
  CHECK(net.param_count() == 16 + 8 + 10);
  CHECK(net.buffers().size() == 8);
  Index next = 0;
  std::vector<std::string> names;
  for (const auto& t : net.tensors()) {
    names.push_back(t.name);
    if (!t.trainable) continue;
    CHECK(t.offset == next);  // laid out back to back in network order
    next += t.size;
  }
  CHECK(next == net.param_count());
  CHECK(names == std::vector<std::string>{"fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                          "bn.running_var", "fc2.weight", "fc2.bias"});
  net.init_params(1);
  Matrix x = Matrix::Random(5, 3);
  const Matrix before = net.forward(x, Mode::eval);
  net.params().tail(2).array() += 1.0f;  // fc2.bias, through the flat buffer
  const Matrix after = net.forward(x, Mode::eval);
  CHECK((after - before).isApprox(Matrix::Ones(5, 2)));
  // The same seed gives the same weights; another seed other weights.
  Network other = build(json::parse(R"({"input_shape": [3], "layers": [
      {"type": "affine", "units": 4, "name": "fc1"}, {"type": "batchnorm", "name": "bn"}, {"type": "relu"},
      {"type": "affine", "units": 2, "name": "fc2"}]})"));
  other.init_params(1);
  net.init_params(1);
  CHECK(other.params() == net.params());
  other.init_params(2);
  CHECK(other.params() != net.params());
}

TEST_CASE("network: affine's bias add and bias gradient over the pool give one call's bits on any thread count") {
  // 300 × 1000 outputs: the bias add runs in ranges of rows and must give what one Eigen
  // expression over the whole matrix gives; so must the bias gradient (splitting its column
  // sums in ranges of 16-column multiples changed bits, the first columns of each range taking
  // Eigen's unaligned path). The product comes from a twin layer without bias and the same
  // weights (same shapes, same product bits).
  const Index batch = 300, in = 5, out = 1000;
  const Matrix x = Matrix::Random(batch, in);
  const Matrix dy = Matrix::Random(batch, out);
  const int threads = num_threads();
  for (int t : {1, 2}) {
    CAPTURE(t);
    set_num_threads(t);
    Network net = build(json::parse(R"({"input_shape": [5], "layers": [{"type": "affine", "units": 1000}]})"));
    Network plain =
        build(json::parse(R"({"input_shape": [5], "layers": [{"type": "affine", "units": 1000, "bias": false}]})"));
    net.init_params(3);
    net.params().tail(out).setRandom();  // a bias that is not zero
    plain.params() = net.params().head(in * out);
    const Eigen::Map<const RowVector> b(net.params().data() + in * out, out);
    Matrix expected_y = plain.forward(x, Mode::train);
    expected_y.rowwise() += b;
    const Matrix& y = net.forward(x, Mode::train);
    CHECK(std::memcmp(y.data(), expected_y.data(), sizeof(float) * static_cast<std::size_t>(y.size())) == 0);
    net.zero_grads();
    net.backward(dy);
    // One call on the whole matrix, into storage laid out as the gradient vector (Eigen's
    // vectorised sum depends on where the destination sits against the alignment).
    Vector expected = Vector::Zero(net.grads().size());
    RowVectorMap(expected.data() + in * out, out).noalias() += dy.colwise().sum();
    CHECK(std::memcmp(net.grads().data() + in * out, expected.data() + in * out, sizeof(float) * out) == 0);
  }
  set_num_threads(threads);
}

TEST_CASE("network: a feature count that does not fit is a data error") {
  Network net = build(json::parse(R"({"input_shape": [3], "layers": [{"type": "relu"}]})"));
  CHECK_THROWS_AS(net.forward(Matrix::Zero(2, 4), Mode::eval), DataError);
}

TEST_CASE("network: infer() runs blocks of rows; the same output as forward(), the same bits on any thread count") {
  // The shipped CNN's layers: one sample's activations are ~129k floats, so infer() runs blocks
  // of 32 rows, and 300 rows take ten blocks (the last one short).
  const json model = json::parse(R"({"input_shape": [1, 28, 28], "layers": [
      {"type": "conv2d", "filters": 32, "kernel": 3, "padding": "same"}, {"type": "batchnorm"},
      {"type": "relu"}, {"type": "maxpool2d"},
      {"type": "conv2d", "filters": 64, "kernel": 3, "padding": "same"}, {"type": "batchnorm"},
      {"type": "relu"}, {"type": "maxpool2d"}, {"type": "dropout", "rate": 0.25}, {"type": "flatten"},
      {"type": "affine", "units": 256}, {"type": "relu"}, {"type": "affine", "units": 10}]})");
  Network net = build(model);
  net.init_params(5);
  Rng rng(9);
  // Running statistics away from (0, 1), so eval-mode batchnorm does real work: means in
  // (-0.1, 0.1), variances in (0.5, 1.5).
  for (const TensorInfo& t : net.tensors()) {
    if (t.trainable) continue;
    const bool var = t.name.ends_with("running_var");
    for (Index i = 0; i < t.size; ++i)
      net.buffers()[t.offset + i] = static_cast<float>(var ? 0.5 + rng.uniform() : 0.2 * rng.uniform() - 0.1);
  }
  const Index n = 300;
  CHECK(net.infer_block_rows() == 32);
  Matrix x(n, 784);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform());
  const int threads = num_threads();
  Matrix one, two;
  set_num_threads(1);
  net.infer(x, one);
  set_num_threads(2);
  net.infer(x, two);
  set_num_threads(threads);
  REQUIRE(one.rows() == n);
  REQUIRE(one.cols() == 10);
  CHECK(std::memcmp(one.data(), two.data(), sizeof(float) * static_cast<std::size_t>(one.size())) == 0);
  const Matrix whole = net.forward(x, Mode::eval);
  CHECK(whole.allFinite());
  CHECK(whole.row(0) != whole.row(200));  // samples differ, so a block of the wrong rows would show
  const float scale = whole.cwiseAbs().maxCoeff();
  CHECK(scale > 0.1f);
  CHECK((whole - one).cwiseAbs().maxCoeff() <= 1e-5f * scale);
}

namespace {

// A sequential network built layer by layer (as from_config does), with the relu fusion on or
// off (Network::set_fuse_layers).
Network build_sequential(const Shape& input, const json& layers, bool fuse) {
  Network net;
  net.add_input("input", input);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const json& l = layers[i];
    std::vector<std::string> inputs;
    if (l.contains("inputs")) inputs = l.at("inputs").get<std::vector<std::string>>();
    const ConfigNode node(l, "/model/layers/" + std::to_string(i), "net.json");
    net.add_layer(l.value("name", "layers." + std::to_string(i)), inputs,
                  layer_registry().create(l.at("type").get<std::string>(), node), false);
  }
  net.set_fuse_layers(fuse);
  net.build();
  net.init_params(3);
  return net;
}

bool same_bytes(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0);
}

// Train-mode forward and backward of both networks on x: outputs, parameter gradients and
// input gradients compared byte for byte (so a −0 against a +0 counts as a difference).
// With `shards` (sample-shard edges, Network::set_batch_slice), the batchnorms add their sums per
// shard. Then eval-mode forward and backward (through the running statistics) compared the same way.
// Without `input_grad` no input gradient is asked for, so a first conv layer takes its weight
// gradients from the batchnorm after it (Layer::fuse_batchnorm_output).
// With `c`, the batch is this process's half of one twice its size, the batchnorms' sums going
// through c.
void check_fusion_exact(const Shape& input, const json& layers, const Matrix& x, std::vector<Index> shards = {},
                        bool input_grad = true, Collective* c = nullptr) {
  Network fused = build_sequential(input, layers, true), plain = build_sequential(input, layers, false);
  Rng rng(17);
  Matrix dy(x.rows(), plain.output_shape().size());
  for (Index i = 0; i < dy.size(); ++i) dy.data()[i] = static_cast<float>(rng.uniform() - 0.5);
  for (Network* net : {&fused, &plain}) {
    net->set_batch_slice(c, 0, c != nullptr ? 2 * x.rows() : x.rows(), shards);
    net->set_need_input_grad(input_grad);
    net->zero_grads();
    net->forward(x, Mode::train);
    net->backward(dy);
  }
  // The running statistics of batchnorms (buffers) moved alike.
  CHECK(same_bytes(MatrixMap(fused.buffers().data(), 1, fused.buffers().size()),
                   MatrixMap(plain.buffers().data(), 1, plain.buffers().size())));
  CHECK(same_bytes(fused.forward(x, Mode::train), plain.forward(x, Mode::train)));
  // A net of only relu and pools has no parameters: memcmp must not see its null pointers.
  REQUIRE(fused.grads().size() == plain.grads().size());
  CHECK(
      (plain.grads().size() == 0 || std::memcmp(fused.grads().data(), plain.grads().data(),
                                                sizeof(float) * static_cast<std::size_t>(plain.grads().size())) == 0));
  if (input_grad) CHECK(same_bytes(fused.input_grad(), plain.input_grad()));
  CHECK(fused.summary().size() == plain.summary().size());  // the relu stays in the layer table
  for (Network* net : {&fused, &plain}) {
    net->zero_grads();
    net->forward(x, Mode::eval);
    net->backward(dy);
  }
  CHECK(same_bytes(fused.forward(x, Mode::eval), plain.forward(x, Mode::eval)));
  CHECK(
      (plain.grads().size() == 0 || std::memcmp(fused.grads().data(), plain.grads().data(),
                                                sizeof(float) * static_cast<std::size_t>(plain.grads().size())) == 0));
  if (input_grad) CHECK(same_bytes(fused.input_grad(), plain.input_grad()));
}

// A (rows, cols) matrix of cells drawn from `values` (six of them) with Rng(seed).
Matrix cells_drawn_from(const std::array<float, 6>& values, Index rows, Index cols, std::uint64_t seed) {
  Rng rng(seed);
  Matrix x(rows, cols);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = values[rng.below(6)];
  return x;
}

// relu then a 2x2 pool, and relu then a padded 3x3 stride-2 pool, each fused and apart, on x.
void check_relu_then_pools(const Shape& input, const Matrix& x) {
  for (const char* pool :
       {R"({"type": "maxpool2d"})", R"({"type": "maxpool2d", "kernel": 3, "stride": 2, "padding": 1})"}) {
    const std::string pool_layer = pool;
    CAPTURE(pool_layer);
    check_fusion_exact(input, json::array({json{{"type", "relu"}}, json::parse(pool_layer)}), x);
  }
}

}  // namespace

TEST_CASE("network: a max-pool that takes in the relu before it gives the bits of the two layers") {
  SUBCASE("conv, batchnorm, relu, 2x2 pool; conv, relu, 3x3 stride-2 padded pool") {
    const json layers = json::parse(R"([
        {"type": "conv2d", "filters": 3, "kernel": 3, "padding": "same"}, {"type": "batchnorm"},
        {"type": "relu"}, {"type": "maxpool2d"},
        {"type": "conv2d", "filters": 4, "kernel": 3, "padding": "same"}, {"type": "relu"},
        {"type": "maxpool2d", "kernel": 3, "stride": 2, "padding": 1}, {"type": "flatten"},
        {"type": "affine", "units": 5}])");
    Rng rng(5);
    Matrix x(6, 2 * 6 * 10);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.5);
    check_fusion_exact(Shape{2, 6, 10}, layers, x);
  }
  SUBCASE("relu on the input itself, with exact zeros of both signs and ties") {
    // Windows of only negatives and zeros: the relu's zeros, −0 kept where the first cell is −0.
    const Matrix x = cells_drawn_from({-1.0f, -0.0f, 0.0f, 1.0f, 2.0f, -2.0f}, 5, 3 * 5 * 7, 8);
    check_relu_then_pools(Shape{3, 5, 7}, x);
  }
  SUBCASE("NaN cells: the pool picks what it would pick from the relu's outputs") {
    // relu keeps NaN; a window whose first cell is NaN and whose others are <= 0 pools to 0,
    // and one of only NaN to -inf, as the two layers give.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    Matrix x = cells_drawn_from({nan, -1.0f, -0.0f, 0.0f, 0.5f, -2.0f}, 4, 2 * 6 * 6, 11);
    for (Index i = 0; i < 36; ++i) x.data()[i] = nan;  // a whole channel of NaN
    check_relu_then_pools(Shape{2, 6, 6}, x);
  }
  SUBCASE("another reader of the relu's input between the relu and the pool: not taken in") {
    // The conv's output gradient gets three terms; taken in, the relu's would move past q1's and q2's.
    const json layers = json::parse(R"([
        {"type": "conv2d", "name": "c", "filters": 2, "kernel": 3, "padding": "same"},
        {"type": "relu", "name": "r"},
        {"type": "scale", "name": "q1", "factor": 0.37, "inputs": ["c"]},
        {"type": "sigmoid", "name": "q2", "inputs": ["c"]},
        {"type": "maxpool2d", "name": "p", "inputs": ["r"]},
        {"type": "maxpool2d", "name": "p1", "inputs": ["q1"]},
        {"type": "maxpool2d", "name": "p2", "inputs": ["q2"]},
        {"type": "add", "name": "s", "inputs": ["p", "p1"]}, {"type": "add", "inputs": ["s", "p2"]}])");
    Rng rng(6);
    Matrix x(5, 1 * 6 * 8);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.5);
    check_fusion_exact(Shape{1, 6, 8}, layers, x);
  }
  SUBCASE("a flatten between two layers: its reader takes its input, or it stays where either has another reader") {
    for (const char* text :
         {R"([{"type": "conv2d", "filters": 2, "kernel": 3}, {"type": "flatten"}, {"type": "affine", "units": 3}])",
          R"([{"type": "conv2d", "name": "c", "filters": 2, "kernel": 3}, {"type": "flatten", "name": "f"},
                 {"type": "flatten", "name": "g", "inputs": ["c"]}, {"type": "add", "inputs": ["f", "g"]}])",
          R"([{"type": "conv2d", "filters": 2, "kernel": 3}, {"type": "flatten", "name": "f"},
                 {"type": "scale", "name": "a", "factor": 0.5}, {"type": "add", "inputs": ["f", "a"]}])",
          R"([{"type": "conv2d", "filters": 2, "kernel": 3}, {"type": "flatten"}])"}) {
      const std::string layers = text;
      CAPTURE(layers);
      Rng rng(9);
      Matrix x(4, 2 * 5 * 5);
      for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.5);
      check_fusion_exact(Shape{2, 5, 5}, json::parse(layers), x);
    }
  }
  SUBCASE("a relu with a second reader stays a layer of its own") {
    const json layers = json::parse(R"([
        {"type": "relu", "name": "r"}, {"type": "maxpool2d", "name": "p"},
        {"type": "avgpool2d", "name": "q", "inputs": ["r"]}, {"type": "add", "inputs": ["p", "q"]}])");
    Rng rng(4);
    Matrix x(3, 2 * 4 * 4);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.5);
    check_fusion_exact(Shape{2, 4, 4}, layers, x);
  }
}

TEST_CASE("network: an affine layer that runs the relu after it gives the bits of the two layers") {
  // Cells of x include exact zeros and a NaN row: relu keeps NaN and −0, and its gradient is 0
  // exactly where the affine output is not > 0, from the relu's output as from its input.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Matrix x = cells_drawn_from({-1.0f, -0.0f, 0.0f, 0.5f, 2.0f, -0.25f}, 9, 12, 31);
  x.row(4).setConstant(nan);
  x.row(6).setZero();
  for (const bool bias : {true, false}) {
    CAPTURE(bias);
    json layers = json::parse(R"([
        {"type": "affine", "units": 7}, {"type": "relu"}, {"type": "affine", "units": 5}, {"type": "relu"},
        {"type": "affine", "units": 3}])");
    for (json& l : layers)
      if (l["type"] == "affine") l["bias"] = bias;
    check_fusion_exact(Shape{12}, layers, x);
    SUBCASE("with sample shards") { check_fusion_exact(Shape{12}, layers, x, {0, 2, 6, 9}); }
    // Taken in: the two relus' outputs are never stored.
    Network fused = build_sequential(Shape{12}, layers, true), plain = build_sequential(Shape{12}, layers, false);
    fused.forward(x, Mode::train);
    plain.forward(x, Mode::train);
    CHECK(plain.value_floats() - fused.value_floats() == x.rows() * (7 + 5));
  }
  SUBCASE("layers wider than the batch (chunks of columns), a relu of a relu, a flatten between") {
    const Matrix x5 = x.topRows(5);
    for (const char* text : {R"([{"type": "affine", "units": 40}, {"type": "relu"}, {"type": "affine", "units": 33},
                                 {"type": "relu"}, {"type": "affine", "units": 3}])",
                             R"([{"type": "affine", "units": 40}, {"type": "relu"}, {"type": "relu"},
                                 {"type": "affine", "units": 3}])",
                             R"([{"type": "affine", "units": 40}, {"type": "flatten"}, {"type": "relu"},
                                 {"type": "affine", "units": 3}])"}) {
      const std::string layers = text;
      CAPTURE(layers);
      check_fusion_exact(Shape{12}, json::parse(layers), x5);
      check_fusion_exact(Shape{12}, json::parse(layers), x5, {0, 2, 5});
      Network fused = build_sequential(Shape{12}, json::parse(layers), true);
      Network plain = build_sequential(Shape{12}, json::parse(layers), false);
      fused.forward(x5, Mode::train);
      plain.forward(x5, Mode::train);
      CHECK(fused.value_floats() < plain.value_floats());
    }
  }
  SUBCASE("a relu with a second reader, or an affine output with a second reader, stays apart") {
    for (const char* text : {R"([{"type": "affine", "units": 6}, {"type": "relu", "name": "r"},
                                 {"type": "affine", "name": "a", "units": 6}, {"type": "add", "inputs": ["a", "r"]}])",
                             R"([{"type": "affine", "name": "f", "units": 6}, {"type": "relu", "name": "r"},
                                 {"type": "add", "inputs": ["f", "r"]}])"}) {
      const std::string layers = text;
      CAPTURE(layers);
      check_fusion_exact(Shape{12}, json::parse(layers), x);
      Network fused = build_sequential(Shape{12}, json::parse(layers), true);
      Network plain = build_sequential(Shape{12}, json::parse(layers), false);
      fused.forward(x, Mode::train);
      plain.forward(x, Mode::train);
      CHECK(fused.value_floats() == plain.value_floats());
    }
  }
}

TEST_CASE("network: a 2x2 max-pool that takes in the batchnorm before it gives the bits of the layers apart") {
  // Batchnorm's sums split a segment at its 64-byte alignment (Eigen): 28x28 planes are aligned,
  // 14x14 and 7x9 ones start at every multiple of 16 bytes; an odd batch and odd planes.
  const auto uniform = [](Index rows, Index cols, std::uint64_t seed) {
    Rng rng(seed);
    Matrix x(rows, cols);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.3);
    return x;
  };
  SUBCASE("conv, batchnorm, relu, pool on 28x28; conv, batchnorm, pool (no relu) on 14x14") {
    const json layers = json::parse(R"([
        {"type": "conv2d", "filters": 4, "kernel": 3, "padding": "same"}, {"type": "batchnorm"},
        {"type": "relu"}, {"type": "maxpool2d"},
        {"type": "conv2d", "filters": 6, "kernel": 3, "padding": "same"}, {"type": "batchnorm"},
        {"type": "maxpool2d"}, {"type": "flatten"}, {"type": "affine", "units": 3}])");
    const Matrix x = uniform(7, 28 * 28, 21);
    check_fusion_exact(Shape{1, 28, 28}, layers, x);
    SUBCASE("with sample shards") { check_fusion_exact(Shape{1, 28, 28}, layers, x, {0, 3, 5, 7}); }
#if defined(__AVX512F__) && defined(__AVX512VL__)
    // Taken in (AVX-512 builds): the batchnorms' output gradients are never kept.
    Network fused = build_sequential(Shape{1, 28, 28}, layers, true);
    Network plain = build_sequential(Shape{1, 28, 28}, layers, false);
    for (Network* net : {&fused, &plain}) {
      net->forward(x, Mode::train);
      net->backward(Matrix::Ones(x.rows(), 3));
    }
    CHECK(fused.value_grad_floats() < plain.value_grad_floats());
#endif
  }
  SUBCASE("odd planes (7x9) and a batchnorm on the input itself") {
    const json layers = json::parse(R"([{"type": "batchnorm"}, {"type": "relu"}, {"type": "maxpool2d"}])");
    check_fusion_exact(Shape{3, 7, 9}, layers, uniform(5, 3 * 7 * 9, 22));
  }
  SUBCASE("a batchnorm with a second reader stays a layer of its own") {
    const json layers = json::parse(R"([
        {"type": "batchnorm", "name": "b"}, {"type": "maxpool2d", "name": "p"},
        {"type": "avgpool2d", "name": "q", "inputs": ["b"]}, {"type": "add", "inputs": ["p", "q"]}])");
    check_fusion_exact(Shape{2, 6, 6}, layers, uniform(4, 2 * 6 * 6, 23));
  }
}

TEST_CASE(
    "network: a first conv layer that takes its weight gradients from the batchnorm after it gives the bits of the "
    "layers apart") {
  Rng rng(24);
  Matrix x(7, 2 * 28 * 20);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.3);
  SUBCASE("the batchnorm taken in by a pool; with and without sample shards") {
    const json layers = json::parse(R"([
        {"type": "conv2d", "filters": 4, "kernel": 3, "padding": "same"}, {"type": "batchnorm"},
        {"type": "relu"}, {"type": "maxpool2d"}, {"type": "flatten"}, {"type": "affine", "units": 3}])");
    check_fusion_exact(Shape{2, 28, 20}, layers, x, {}, false);
    check_fusion_exact(Shape{2, 28, 20}, layers, x, {0, 2, 5, 7}, false);
    // Across processes the batchnorm hands dx on in a pass of its own, after the sums.
    test::TwinProcesses twins;
    check_fusion_exact(Shape{2, 28, 20}, layers, x, {}, false, &twins);
#if defined(__AVX512F__)
    // AVX-512 builds (Conv2d's direct weight gradients): the conv layer's output gradient (7 x
    // 4·28·20) is never kept when no input gradient is asked for.
    Network fused = build_sequential(Shape{2, 28, 20}, layers, true);
    Index floats[2] = {};
    for (const bool input_grad : {true, false}) {
      fused.set_need_input_grad(input_grad);
      fused.forward(x, Mode::train);
      fused.backward(Matrix::Ones(x.rows(), 3));
      floats[input_grad ? 0 : 1] = fused.value_grad_floats();
    }
    CHECK(floats[0] - floats[1] >= 7 * 4 * 28 * 20);
#endif
  }
  SUBCASE("valid padding (rows off the 16-float lanes: 3·26·18 values a sample), taken in by a pool") {
    const json layers = json::parse(R"([
        {"type": "conv2d", "filters": 3, "kernel": 3}, {"type": "batchnorm"}, {"type": "relu"},
        {"type": "maxpool2d"}, {"type": "flatten"}, {"type": "affine", "units": 2}])");
    check_fusion_exact(Shape{2, 28, 20}, layers, x, {}, false);
    check_fusion_exact(Shape{2, 28, 20}, layers, x, {0, 1, 4, 7}, false);
    check_fusion_exact(Shape{2, 28, 20}, layers, x, {}, true);
    test::TwinProcesses twins;
    check_fusion_exact(Shape{2, 28, 20}, layers, x, {}, false, &twins);
  }
  SUBCASE("batches of 7, 5 and 9 rows in turn through the same networks") {
    const json layers = json::parse(R"([
        {"type": "conv2d", "filters": 4, "kernel": 3, "padding": "same"}, {"type": "batchnorm"},
        {"type": "relu"}, {"type": "maxpool2d"}, {"type": "flatten"}, {"type": "affine", "units": 3}])");
    Network fused = build_sequential(Shape{2, 28, 20}, layers, true),
            plain = build_sequential(Shape{2, 28, 20}, layers, false);
    for (const Index rows : {7, 5, 9}) {
      CAPTURE(rows);
      Matrix xb(rows, x.cols());
      for (Index i = 0; i < xb.size(); ++i) xb.data()[i] = static_cast<float>(rng.uniform() - 0.3);
      const Matrix dy = Matrix::Constant(rows, 3, 0.25f);
      Matrix out[2];
      int k = 0;
      for (Network* net : {&fused, &plain}) {
        net->set_need_input_grad(false);
        net->zero_grads();
        out[k++] = net->forward(xb, Mode::train);
        net->backward(dy);
      }
      CHECK(same_bytes(out[0], out[1]));
      CHECK(std::memcmp(fused.grads().data(), plain.grads().data(),
                        sizeof(float) * static_cast<std::size_t>(plain.grads().size())) == 0);
    }
  }
  SUBCASE("a batchnorm of its own, valid padding") {
    const json layers = json::parse(R"([
        {"type": "conv2d", "filters": 3, "kernel": 3}, {"type": "batchnorm"}, {"type": "avgpool2d"},
        {"type": "flatten"}, {"type": "affine", "units": 2}])");
    check_fusion_exact(Shape{2, 28, 20}, layers, x, {}, false);
    check_fusion_exact(Shape{2, 28, 20}, layers, x, {0, 4, 7}, false);
  }
}

namespace {
// Conv, batchnorm, relu, pool and affine layers (for 2 x 12 x 12 inputs): the conv layer takes its
// weight gradients from the batchnorm's segments, and the pool takes in the batchnorm and relu.
constexpr const char* kConvNet = R"([
    {"type": "conv2d", "filters": 4, "kernel": 3, "padding": "same"}, {"type": "batchnorm"},
    {"type": "relu"}, {"type": "maxpool2d"}, {"type": "flatten"},
    {"type": "affine", "units": 5}, {"type": "relu"}, {"type": "affine", "units": 3}])";

// Train-mode forward and backward with ParamGrads::assign on a network whose gradients hold NaN,
// against zero_grads and an adding backward on its twin: the same gradient bytes. A second
// assigning backward overwrites (it does not add); an adding one after it adds again.
void check_assigned_grads(const Shape& input, const json& layers, const Matrix& x, std::vector<Index> shards,
                          bool input_grad) {
  Network assigned = build_sequential(input, layers, true), added = build_sequential(input, layers, true);
  Rng rng(31);
  Matrix dy(x.rows(), added.output_shape().size());
  for (Index i = 0; i < dy.size(); ++i) dy.data()[i] = static_cast<float>(rng.uniform() - 0.5);
  for (Network* net : {&assigned, &added}) {
    net->set_batch_slice(nullptr, 0, x.rows(), shards);
    net->set_need_input_grad(input_grad);
  }
  const auto same_grads = [&] {
    return std::memcmp(assigned.grads().data(), added.grads().data(),
                       sizeof(float) * static_cast<std::size_t>(added.grads().size())) == 0;
  };
  added.zero_grads();
  added.forward(x, Mode::train);
  added.backward(dy);
  REQUIRE(added.grads().cwiseAbs().maxCoeff() > 0.0f);
  assigned.grads().setConstant(std::numeric_limits<float>::quiet_NaN());
  for (int pass = 0; pass < 2; ++pass) {
    assigned.forward(x, Mode::train);
    assigned.backward(dy, ParamGrads::assign);
    CHECK(same_grads());
  }
  for (Network* net : {&assigned, &added}) {
    net->forward(x, Mode::train);
    net->backward(dy);
  }
  CHECK(same_grads());
}
}  // namespace

TEST_CASE("network: backward that assigns the parameter gradients gives the bits of zeroing them and adding") {
  Rng rng(32);
  SUBCASE("affine layers: with and without bias, the relu taken in, shards") {
    // Without shards fc1's weight gradient (40 x 512, 200 deep) is one OpenBLAS product into the
    // gradient, with beta 0; with them each shard's goes through the padded scratch into its part
    // and the parts' sum is copied; out's (512 x 3) is LIBXSMM's when 100 or fewer samples deep.
    const json layers = json::parse(R"([
        {"type": "affine", "units": 512, "name": "fc1"}, {"type": "relu"},
        {"type": "affine", "units": 3, "bias": false, "name": "out"}])");
    Matrix x(200, 40);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.3);
    check_assigned_grads(Shape{40}, layers, x, {}, false);
    check_assigned_grads(Shape{40}, layers, x, {0, 100, 200}, true);
    check_assigned_grads(Shape{40}, json::array({layers.at(0)}), x.topRows(9), {0, 4, 9}, false);
  }
  SUBCASE("a weight gradient in two chunks of rows, by OpenBLAS (200 deep) and by LIBXSMM (120 deep)") {
    // 256 inputs: WeightGradChunks splits dW's 256 rows in two (gemm.h, chunk_count).
    const json layers = json::parse(R"([{"type": "affine", "units": 128}])");
    Matrix x(200, 256);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.3);
    REQUIRE(gemm_detail::chunk_count(256, 120 * 256 * 128) == 2);
    check_assigned_grads(Shape{256}, layers, x, {}, false);
    check_assigned_grads(Shape{256}, layers, x.topRows(120), {}, true);
  }
  SUBCASE("conv, batchnorm, pool and affine: the layers that add have their gradients zeroed") {
    const json layers = json::parse(kConvNet);
    Matrix x(6, 2 * 12 * 12);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.3);
    check_assigned_grads(Shape{2, 12, 12}, layers, x, {}, false);  // conv's gradients from the batchnorm
    check_assigned_grads(Shape{2, 12, 12}, layers, x, {}, true);
    check_assigned_grads(Shape{2, 12, 12}, layers, x, {0, 2, 6}, false);
  }
}

namespace {
// Backward told when gradients are final (Network::GradsFinal), against a plain backward of the
// same batch: each call comes at the first parameter of a layer with parameters, last layer
// first, and the gradients from there on already hold their final bytes. A layer with parameters
// that the fusions skip (a batchnorm taken in by the layer that reads it) is not told of: its
// gradients are final when the layer before it is.
void check_grads_final(const Shape& input, const json& layers, const Matrix& x, std::size_t skipped_with_params) {
  Network net = build_sequential(input, layers, true);
  Rng rng(33);
  Matrix dy(x.rows(), net.output_shape().size());
  for (Index i = 0; i < dy.size(); ++i) dy.data()[i] = static_cast<float>(rng.uniform() - 0.5);
  net.zero_grads();
  net.forward(x, Mode::train);
  net.backward(dy);
  const Vector final_grads = net.grads();
  std::vector<Index> starts;  // where each layer's parameters start, last layer first
  std::optional<std::size_t> node;
  for (const TensorInfo& t : net.tensors()) {
    if (!t.trainable || t.node == node) continue;
    starts.insert(starts.begin(), t.offset);
    node = t.node;
  }
  REQUIRE(starts.size() >= 3);
  net.zero_grads();
  net.forward(x, Mode::train);
  std::vector<Index> calls;
  bool final_each_time = true;
  net.backward(dy, ParamGrads::add, [&](Index first) {
    calls.push_back(first);
    const auto bytes = sizeof(float) * static_cast<std::size_t>(net.grads().size() - first);
    final_each_time =
        final_each_time && std::memcmp(net.grads().data() + first, final_grads.data() + first, bytes) == 0;
  });
  CHECK(final_each_time);
  // Once per layer that runs its backward (a batchnorm taken in by the layer after it does not),
  // the last layer first and the first layer last.
  REQUIRE(!calls.empty());
  CHECK(calls.front() == starts.front());
  CHECK(calls.back() == 0);
  for (std::size_t k = 0; k < calls.size(); ++k) {
    CHECK(std::find(starts.begin(), starts.end(), calls[k]) != starts.end());
    if (k > 0) CHECK(calls[k] < calls[k - 1]);
  }
  CHECK(calls.size() + skipped_with_params == starts.size());
}
}  // namespace

TEST_CASE("network: backward tells when each layer's gradients are final") {
  Rng rng(34);
  SUBCASE("affine layers with the relus taken in") {
    const json layers = json::parse(R"([
        {"type": "affine", "units": 64}, {"type": "relu"}, {"type": "affine", "units": 48}, {"type": "relu"},
        {"type": "affine", "units": 3}])");
    Matrix x(20, 30);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.3);
    check_grads_final(Shape{30}, layers, x, 0);
  }
  SUBCASE("conv, batchnorm (the conv's gradients from its segments), pool and affine") {
    const json layers = json::parse(kConvNet);
    Matrix x(6, 2 * 12 * 12);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform() - 0.3);
#if defined(__AVX512F__) && defined(__AVX512VL__)
    check_grads_final(Shape{2, 12, 12}, layers, x, 1);  // the batchnorm, taken in by its reader
#else
    check_grads_final(Shape{2, 12, 12}, layers, x, 0);
#endif
  }
}
