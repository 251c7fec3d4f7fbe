// The whole-network gradient check (gradcheck.h): correct networks pass, including ReLU kinks
// and a bias before batchnorm (true gradient exactly 0), while a layer with a deliberately wrong
// backward fails. The broken layer exists only in this test binary: it is added to a network in
// code, never to the layer registry.
#include <doctest/doctest.h>

#include "nettrain/layers/registry.h"
#include "nettrain/train/gradcheck.h"
#include "nettrain/train/registry.h"

using namespace nettrain;
using json = nlohmann::json;

namespace {

// y = x ⊙ w (w: one weight per feature). backward adds `grad_factor`·Σ_rows x ⊙ dy into dw:
// grad_factor 1 is the true gradient, anything else a bug the check must catch.
class ScaleByWeight : public Layer {
 public:
  explicit ScaleByWeight(float grad_factor) : grad_factor_(grad_factor) {}
  std::string type() const override { return "test_scale_by_weight"; }
  Shape build(const std::vector<Shape>& inputs) override {
    n_ = inputs.at(0).size();
    return inputs.at(0);
  }
  std::vector<TensorSpec> parameters() const override {
    TensorSpec w;
    w.name = "weight";
    w.shape = {n_};
    w.init.name = "normal";
    w.init.std = 1.0;
    return {w};
  }
  void bind(const std::vector<float*>& params, const std::vector<float*>& grads, const std::vector<float*>&) override {
    w_ = params.at(0);
    dw_ = grads.at(0);
  }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context&) override {
    const Eigen::Map<const RowVector> w(w_, n_);
    y = x[0]->array().rowwise() * w.array();
  }
  void backward(std::span<const Matrix* const> x, const Matrix&, const Matrix& dy,
                std::span<Matrix* const> dx) override {
    const Eigen::Map<const RowVector> w(w_, n_);
    Eigen::Map<RowVector> dw(dw_, n_);
    dw += grad_factor_ * (x[0]->array() * dy.array()).colwise().sum().matrix();
    if (dx[0] != nullptr) *dx[0] = dy.array().rowwise() * w.array();
  }

 private:
  float grad_factor_;
  Index n_ = 0;
  float* w_ = nullptr;
  float* dw_ = nullptr;
};

std::unique_ptr<Layer> registered(const json& config) {
  return layer_registry().create(config["type"].get<std::string>(), ConfigNode(config, "/model/layers/0", "test"));
}

struct Case {
  Network net;
  std::unique_ptr<Loss> loss;
  Matrix x;
  std::vector<std::int32_t> labels;
};

// input [6] -> affine 16 -> (middle layers) -> affine 3, softmax cross-entropy on 32 samples.
Case make_case(std::vector<std::unique_ptr<Layer>> middle) {
  Case c;
  c.net.add_input("input", Shape{6});
  c.net.add_layer("fc1", {}, registered({{"type", "affine"}, {"units", 16}}));
  for (std::size_t i = 0; i < middle.size(); ++i) c.net.add_layer("mid" + std::to_string(i), {}, std::move(middle[i]));
  c.net.add_layer("out", {}, registered({{"type", "affine"}, {"units", 3}}));
  c.net.build();
  c.net.init_params(3);
  static const json loss_config = {{"type", "softmax_cross_entropy"}};
  c.loss = loss_registry().create("softmax_cross_entropy", ConfigNode(loss_config, "/model/loss", "test"));
  Rng rng(17);
  c.x.resize(32, 6);
  for (Index i = 0; i < c.x.size(); ++i) c.x.data()[i] = static_cast<float>(rng.normal());
  for (int i = 0; i < 32; ++i) c.labels.push_back(i % 3);
  return c;
}

GradCheckReport check(Case& c) {
  GradCheckOptions o;
  o.max_entries = 1000;  // every entry
  return gradient_check(c.net, *c.loss, c.x, Targets{c.labels, nullptr}, o);
}

// Every tensor's numbers, for the failure message.
std::string describe(const GradCheckReport& r) {
  std::string out = "atol " + std::to_string(r.atol) + ", loss " + std::to_string(r.loss) + "\n";
  for (const auto& t : r.tensors)
    out += t.name + ": checked " + std::to_string(t.checked) + ", kinks " + std::to_string(t.kinks_skipped) +
           ", worst ratio " + std::to_string(t.worst_ratio) + " " + t.worst + "\n";
  return out;
}

const TensorCheck& tensor(const GradCheckReport& r, const std::string& name) {
  for (const auto& t : r.tensors)
    if (t.name == name) return t;
  FAIL("no tensor " << name);
  return r.tensors.front();
}

}  // namespace

TEST_CASE("gradcheck: a wrong backward fails, the right one passes") {
  for (const float factor : {1.0f, 1.05f, -1.0f, 0.0f}) {
    CAPTURE(factor);
    std::vector<std::unique_ptr<Layer>> mid;
    mid.push_back(registered({{"type", "tanh"}}));
    mid.push_back(std::make_unique<ScaleByWeight>(factor));
    Case c = make_case(std::move(mid));
    const GradCheckReport r = check(c);
    INFO(describe(r));
    CHECK(r.ok == (factor == 1.0f));
    CHECK(tensor(r, "mid1.weight").ok == (factor == 1.0f));
    CHECK(tensor(r, "fc1.weight").ok);  // the wrong gradient is in mid1.weight alone
    CHECK(tensor(r, "mid1.weight").checked == 16);
  }
}

TEST_CASE("gradcheck: a wrong backward behind ReLU kinks still fails") {
  std::vector<std::unique_ptr<Layer>> mid;
  mid.push_back(registered({{"type", "relu"}}));
  mid.push_back(std::make_unique<ScaleByWeight>(1.05f));
  Case c = make_case(std::move(mid));
  const GradCheckReport r = check(c);
  INFO(describe(r));
  CHECK_FALSE(r.ok);
  CHECK_FALSE(tensor(r, "mid1.weight").ok);
}

TEST_CASE("gradcheck: ReLU networks pass; entries across a kink are skipped and counted") {
  std::vector<std::unique_ptr<Layer>> mid;
  mid.push_back(registered({{"type", "relu"}}));
  mid.push_back(std::make_unique<ScaleByWeight>(1.0f));
  Case c = make_case(std::move(mid));
  // Sample 0 is all zeros and fc1's biases start at 0, so each of its hidden units sits exactly
  // on the ReLU kink: moving fc1.bias[j] either way crosses it, at any step.
  c.x.row(0).setZero();
  const GradCheckReport r = check(c);
  INFO(describe(r));
  CHECK(r.ok);
  Index skipped = 0, checked = 0;
  for (const auto& t : r.tensors) {
    CHECK(t.checked + t.kinks_skipped == t.entries);
    skipped += t.kinks_skipped;
    checked += t.checked;
  }
  CHECK(tensor(r, "fc1.bias").kinks_skipped > 0);
  CHECK(checked > 5 * skipped);
  // A larger step reaches more kinks: still a pass.
  GradCheckOptions o;
  o.max_entries = 1000;
  o.h = 0.01;
  const GradCheckReport wide = gradient_check(c.net, *c.loss, c.x, Targets{c.labels, nullptr}, o);
  INFO(describe(wide));
  CHECK(wide.ok);
}

TEST_CASE("gradcheck: the bias before batchnorm (true gradient 0) passes") {
  std::vector<std::unique_ptr<Layer>> mid;
  mid.push_back(registered({{"type", "batchnorm"}}));
  mid.push_back(registered({{"type", "relu"}}));
  Case c = make_case(std::move(mid));
  const GradCheckReport r = check(c);
  INFO(describe(r));
  CHECK(r.ok);
  const TensorCheck& b = tensor(r, "fc1.bias");
  CHECK(b.ok);
  CHECK(b.max_abs < 1e-3);
}
