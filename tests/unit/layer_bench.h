// Test harness for layers: build one from config JSON through layer_registry(), give it its own
// params/grads/buffers storage (as the network would, but without initialize()), and run a
// central-difference gradient check of every input and parameter gradient.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nettrain/core/collective.h"
#include "nettrain/layers/layer.h"
#include "nettrain/core/rng.h"

namespace nettrain::test {

// Two processes holding the same rows: every sum across them doubles (exactly). Counts its sums.
class TwinProcesses : public Collective {
 public:
  int size() const override { return 2; }
  void sum(std::span<double> v) override {
    for (double& d : v) d *= 2.0;
    ++calls;
  }
  int calls = 0;
};

struct LayerBench {
  nlohmann::json config;
  std::unique_ptr<Layer> layer;
  std::vector<Shape> in_shapes;
  Shape out_shape;
  std::vector<TensorSpec> param_specs, buffer_specs;
  std::vector<float> params, grads, buffers;  // flat storage, one slice per spec
  std::vector<std::size_t> param_offsets, buffer_offsets;

  float* param(std::size_t i) { return params.data() + param_offsets[i]; }
  float* grad(std::size_t i) { return grads.data() + param_offsets[i]; }
  float* buffer(std::size_t i) { return buffers.data() + buffer_offsets[i]; }
  // Forward in `mode` with a Rng seeded `seed` (dropout's mask depends on it).
  Matrix forward(const std::vector<Matrix>& xs, Mode mode, std::uint64_t seed = 1);
};

// Creates the layer named config["type"] (config node "/model/layers/0" of "test.json"),
// builds it on `shapes` and binds zero-filled storage.
LayerBench make_bench(const nlohmann::json& config, const std::vector<Shape>& shapes);
// The message of the ConfigError that make_bench throws, or "(no ConfigError)".
std::string config_error(const nlohmann::json& config, const std::vector<Shape>& shapes);

// Random inputs (batch, size) per input shape: |x| >= 0.1 (away from relu kinks), or in
// [0.5, 2] when `positive`.
std::vector<Matrix> random_inputs(const std::vector<Shape>& shapes, Index batch, bool positive, Rng& rng);

// Inputs whose values are a random permutation of a grid 0.1 apart (centred on 0): no two values
// of a sample are within the gradient check's step, so max pooling never switches its argmax.
std::vector<Matrix> distinct_inputs(const std::vector<Shape>& shapes, Index batch, Rng& rng);

// Fills parameters with N(0, 1)·0.7 and buffers with plausible running statistics.
void randomize_state(LayerBench& b, Rng& rng);

struct GradCheckResult {
  double worst_ratio = 0.0;      // max over values of |numeric − analytic| / tolerance; <= 1 passes
  std::string worst;             // the worst value with both numbers, for the failure message
  std::size_t checked = 0;       // number of values compared
  bool grads_accumulate = true;  // a second backward (dx = nullptr) doubled the param grads
};

// Compares backward() with central differences of L = Σ y ⊙ R (R fixed random) for every input
// element and every parameter element, in `mode`. Each evaluation reseeds the Rng the same way,
// so dropout draws the same mask every time.
GradCheckResult gradient_check(LayerBench& b, std::vector<Matrix> xs, Mode mode);

}  // namespace nettrain::test
