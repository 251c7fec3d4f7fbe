// Test harness for layers; see layer_bench.h.
#include "layer_bench.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "nettrain/core/config_node.h"
#include "nettrain/layers/registry.h"

namespace nettrain::test {

LayerBench make_bench(const nlohmann::json& config, const std::vector<Shape>& shapes) {
  LayerBench b;
  b.config = config;
  const ConfigNode node(b.config, "/model/layers/0", "test.json");
  b.layer = layer_registry().create(b.config.at("type").get<std::string>(), node);
  b.in_shapes = shapes;
  b.out_shape = b.layer->build(shapes);
  b.param_specs = b.layer->parameters();
  b.buffer_specs = b.layer->buffers();
  std::size_t n = 0;
  for (const TensorSpec& s : b.param_specs) {
    b.param_offsets.push_back(n);
    n += static_cast<std::size_t>(s.size());
  }
  b.params.assign(n, 0.0f);
  b.grads.assign(n, 0.0f);
  n = 0;
  for (const TensorSpec& s : b.buffer_specs) {
    b.buffer_offsets.push_back(n);
    n += static_cast<std::size_t>(s.size());
  }
  b.buffers.assign(n, 0.0f);
  std::vector<float*> p, g, buf;
  for (std::size_t i = 0; i < b.param_specs.size(); ++i) {
    p.push_back(b.param(i));
    g.push_back(b.grad(i));
  }
  for (std::size_t i = 0; i < b.buffer_specs.size(); ++i) buf.push_back(b.buffer(i));
  b.layer->bind(p, g, buf);
  return b;
}

std::string config_error(const nlohmann::json& config, const std::vector<Shape>& shapes) {
  try {
    make_bench(config, shapes);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

Matrix LayerBench::forward(const std::vector<Matrix>& xs, Mode mode, std::uint64_t seed) {
  std::vector<const Matrix*> xp;
  for (const Matrix& x : xs) xp.push_back(&x);
  Rng rng(seed);
  const Context ctx{mode, &rng};
  Matrix y;
  layer->forward(xp, y, ctx);
  return y;
}

std::vector<Matrix> random_inputs(const std::vector<Shape>& shapes, Index batch, bool positive, Rng& rng) {
  std::vector<Matrix> xs;
  for (const Shape& s : shapes) {
    Matrix x(batch, s.size());
    for (Index i = 0; i < x.size(); ++i) {
      if (positive) {
        x.data()[i] = 0.5f + 1.5f * rng.uniform();
      } else {
        const double z = rng.normal();
        x.data()[i] = static_cast<float>(z < 0 ? z - 0.1 : z + 0.1);
      }
    }
    xs.push_back(std::move(x));
  }
  return xs;
}

std::vector<Matrix> distinct_inputs(const std::vector<Shape>& shapes, Index batch, Rng& rng) {
  std::vector<Matrix> xs;
  for (const Shape& s : shapes) {
    Matrix x(batch, s.size());
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = 0.1f * static_cast<float>(i - x.size() / 2);
    for (Index i = x.size() - 1; i > 0; --i) {  // Fisher–Yates
      const Index j = static_cast<Index>(rng.uniform() * static_cast<double>(i + 1)) % (i + 1);
      std::swap(x.data()[i], x.data()[j]);
    }
    xs.push_back(std::move(x));
  }
  return xs;
}

void randomize_state(LayerBench& b, Rng& rng) {
  for (float& v : b.params) v = static_cast<float>(0.7 * rng.normal());
  for (std::size_t i = 0; i < b.buffer_specs.size(); ++i) {
    const bool variance = b.buffer_specs[i].name.find("var") != std::string::npos;
    float* p = b.buffer(i);
    for (Index k = 0; k < b.buffer_specs[i].size(); ++k)
      p[k] = variance ? 0.5f + rng.uniform() : static_cast<float>(0.5 * rng.normal());
  }
}

namespace {

// L = Σ y ⊙ R accumulated in double; the Rng restarts from the same seed for every evaluation.
double objective(LayerBench& b, const std::vector<Matrix>& xs, const Matrix& R, Mode mode) {
  const Matrix y = b.forward(xs, mode, 1234);
  double L = 0.0;
  for (Index i = 0; i < y.size(); ++i) L += static_cast<double>(y.data()[i]) * static_cast<double>(R.data()[i]);
  return L;
}

}  // namespace

GradCheckResult gradient_check(LayerBench& b, std::vector<Matrix> xs, Mode mode) {
  // Central differences with step h = 1e-2 on float32 values. Truncation error is h²/6·|f'''|,
  // about 2e-5 for the O(1) inputs used here. Rounding: each y carries a relative error of a
  // few float ulps (~3e-7), so L (≈20 terms of size O(1)) is off by ~1e-6, and dividing by 2h
  // amplifies that to ~5e-5 (more where y is large, as for exp/pow: hence the relative part).
  // A tolerance of 1e-3 + 1e-3·|analytic| keeps a 20× margin over both, while a wrong
  // gradient (a missing factor, a dropped term) is off by O(0.1) or more.
  const float h = 1e-2f;
  const double atol = 1e-3, rtol = 1e-3;
  GradCheckResult res;
  Rng rrng(99);
  const Index batch = xs.at(0).rows();
  Matrix R(batch, b.out_shape.size());
  for (Index i = 0; i < R.size(); ++i) R.data()[i] = static_cast<float>(rrng.normal());

  // Analytic gradients: dy = R = dL/dy.
  const Matrix y = b.forward(xs, mode, 1234);
  std::vector<const Matrix*> xp;
  for (const Matrix& x : xs) xp.push_back(&x);
  std::vector<Matrix> dxs(xs.size());
  std::vector<Matrix*> dxp;
  for (Matrix& d : dxs) {
    d.setConstant(batch, 1, 12345.0f);  // wrong size and garbage: backward must assign
    dxp.push_back(&d);
  }
  std::fill(b.grads.begin(), b.grads.end(), 0.0f);
  b.layer->backward(xp, y, R, dxp);
  const std::vector<float> grads = b.grads;
  // A second backward without input gradients must add the same parameter gradients again.
  std::vector<Matrix*> none(xs.size(), nullptr);
  b.layer->backward(xp, y, R, none);
  for (std::size_t k = 0; k < grads.size(); ++k)
    if (std::fabs(b.grads[k] - 2.0f * grads[k]) > 1e-5f * (1.0f + std::fabs(grads[k]))) res.grads_accumulate = false;

  auto compare = [&](double numeric, double analytic, const std::string& what) {
    double ratio = std::fabs(numeric - analytic) / (atol + rtol * std::fabs(analytic));
    if (std::isnan(ratio)) ratio = INFINITY;  // a NaN gradient must fail, not compare false
    ++res.checked;
    if (ratio > res.worst_ratio) {
      res.worst_ratio = ratio;
      std::ostringstream os;
      os << what << ": numeric " << numeric << " vs analytic " << analytic;
      res.worst = os.str();
    }
  };
  // Central difference (L(v + h) - L(v - h)) / 2h of the objective in one value.
  const auto central_difference = [&](float& v) {
    const float saved = v;
    v = saved + h;
    const double Lp = objective(b, xs, R, mode);
    v = saved - h;
    const double Lm = objective(b, xs, R, mode);
    v = saved;
    return (Lp - Lm) / (2.0 * h);
  };
  for (std::size_t i = 0; i < xs.size(); ++i) {
    for (Index j = 0; j < xs[i].size(); ++j) {
      const double analytic = dxs[i].size() == xs[i].size() ? dxs[i].data()[j] : NAN;
      compare(central_difference(xs[i].data()[j]), analytic, "dx" + std::to_string(i) + "[" + std::to_string(j) + "]");
    }
  }
  for (std::size_t t = 0; t < b.param_specs.size(); ++t) {
    for (Index j = 0; j < b.param_specs[t].size(); ++j)
      compare(central_difference(b.param(t)[j]), grads[b.param_offsets[t] + static_cast<std::size_t>(j)],
              "d" + b.param_specs[t].name + "[" + std::to_string(j) + "]");
  }
  return res;
}

}  // namespace nettrain::test
