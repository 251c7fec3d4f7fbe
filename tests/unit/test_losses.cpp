// Losses: every registered loss has a hand-computed case, a central-difference gradient check,
// a stability check at |z| = 1000 and a bad-targets check. A loss added to loss_registry()
// without an entry in the tables below fails these tests.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "nettrain/core/errors.h"
#include "nettrain/train/registry.h"

using namespace nettrain;

namespace {

// `smoothing` > 0 sets label smoothing (model.label_smoothing), which only some losses take.
std::unique_ptr<Loss> make_loss(const std::string& name, double smoothing = 0.0) {
  const nlohmann::json j = {{"type", name}};
  auto loss = loss_registry().create(name, ConfigNode(j, "/model/loss", "test.json"));
  if (smoothing > 0.0) {
    REQUIRE(loss->supports_label_smoothing());
    loss->set_label_smoothing(smoothing);
  }
  return loss;
}

Matrix mat(Index rows, Index cols, std::initializer_list<float> v) {
  Matrix m(rows, cols);
  REQUIRE(static_cast<Index>(v.size()) == rows * cols);
  Index k = 0;
  for (float x : v) m.data()[k++] = x;
  return m;
}

struct LossCase {
  Matrix z;                          // (B, K)
  std::vector<std::int32_t> labels;  // (B), or empty
  std::optional<Matrix> values;      // (B, K), or none
  double expected;                   // worked out by hand
  Targets targets() const {
    Targets t;
    t.labels = labels;
    t.values = values ? &*values : nullptr;
    return t;
  }
};

const float ln2 = std::log(2.0f), ln3 = std::log(3.0f), ln5 = std::log(5.0f);

std::map<std::string, std::vector<LossCase>> loss_cases() {
  std::map<std::string, std::vector<LossCase>> c;
  // Row 0: z = (0, 0, 0), label 1: p = 1/3, loss ln 3.
  // Row 1: z = (0, ln 2, ln 5), label 0: exp z = (1, 2, 5), p_0 = 1/8, loss ln 8.
  // Mean: (ln 3 + ln 8) / 2 = ln 24 / 2 = 3.1780538 / 2 = 1.5890269.
  c["softmax_cross_entropy"] = {{mat(2, 3, {0, 0, 0, 0, ln2, ln5}), {1, 0}, std::nullopt, 1.5890269}};
  // Elementwise -t·log σ(z) - (1-t)·log(1-σ(z)):
  //   z = 0,     t = 1:   σ = 1/2,  loss ln 2
  //   z = ln 3,  t = 1:   σ = 3/4,  loss ln 4/3
  //   z = -ln 3, t = 0:   σ = 1/4,  loss -ln 3/4 = ln 4/3
  //   z = 0,     t = 0.5: loss ln 2 (any t at z = 0)
  // Mean of 4: (2 ln 2 + 2 ln 4/3) / 4 = ln(8/3) / 2 = 0.9808293 / 2 = 0.4904146.
  // The label form (width 1): rows (z = 0, y = 0) -> ln 2 and (z = ln 3, y = 1) -> ln 4/3,
  // mean (ln 2 + ln 4/3) / 2 = 0.4904146 again.
  c["sigmoid_binary_cross_entropy"] = {{mat(2, 2, {0, ln3, -ln3, 0}), {}, mat(2, 2, {1, 1, 0, 0.5f}), 0.4904146},
                                       {mat(2, 1, {0, ln3}), {0, 1}, std::nullopt, 0.4904146}};
  // z - t = (1, 0, -2, -0.5): squares 1 + 0 + 4 + 0.25 = 5.25, over 4 elements: 1.3125.
  // One target: z - t = (1, -2, 0): squares 1 + 4 + 0 = 5, over 3: 1.6666667.
  c["mse"] = {{mat(2, 2, {1, 2, 3, 4}), {}, mat(2, 2, {0, 2, 5, 4.5f}), 1.3125},
              {mat(3, 1, {1, -1, 0.5f}), {}, mat(3, 1, {0, 1, 0.5f}), 5.0 / 3.0}};
  return c;
}

// Targets that must be rejected with a DataError, per loss.
std::map<std::string, std::vector<std::function<void(Loss&)>>> bad_target_cases() {
  std::map<std::string, std::vector<std::function<void(Loss&)>>> c;
  c["softmax_cross_entropy"] = {[](Loss& l) {
                                  const Matrix z = Matrix::Zero(2, 3);
                                  const std::vector<std::int32_t> y = {0, 3};  // 3 is not in [0, 3)
                                  l.forward(z, Targets{y, nullptr});
                                },
                                [](Loss& l) {
                                  const Matrix z = Matrix::Zero(2, 3);
                                  const std::vector<std::int32_t> y = {-1, 0};
                                  l.forward(z, Targets{y, nullptr});
                                }};
  c["sigmoid_binary_cross_entropy"] = {[](Loss& l) {
                                         const Matrix z = Matrix::Zero(2, 1);
                                         const std::vector<std::int32_t> y = {0, 2};  // binary labels are 0 or 1
                                         l.forward(z, Targets{y, nullptr});
                                       },
                                       [](Loss& l) {
                                         const Matrix z = Matrix::Zero(1, 2);
                                         const Matrix t = mat(1, 2, {0.5f, 1.5f});  // outside [0, 1]
                                         l.forward(z, Targets{{}, &t});
                                       }};
  c["mse"] = {[](Loss& l) {
    const Matrix z = Matrix::Zero(2, 2);
    const Matrix t = Matrix::Zero(2, 3);  // shape differs from the output
    l.forward(z, Targets{{}, &t});
  }};
  return c;
}

}  // namespace

TEST_CASE("losses: every registered loss has test cases, and the forward value matches the hand value") {
  const auto cases = loss_cases();
  const auto bad = bad_target_cases();
  for (const auto& name : loss_registry().names()) {
    CAPTURE(name);
    REQUIRE_MESSAGE(cases.count(name) == 1, "no hand case for loss " << name);
    REQUIRE_MESSAGE(bad.count(name) == 1, "no bad-targets case for loss " << name);
    for (const auto& c : cases.at(name)) {
      auto loss = make_loss(name);
      CHECK(loss->type() == name);
      // The float inputs ln 2, ln 3, ln 5 are off by < 1e-7 relative: 1e-6 covers it.
      CHECK(loss->forward(c.z, c.targets()) == doctest::Approx(c.expected).epsilon(1e-6));
    }
  }
}

namespace {

// dz is checked against (L(z + h·e) - L(z - h·e)) / (actual step), with h = 1e-3 in float. The
// loss is computed in double from exact float inputs, so its rounding (~1e-16) is negligible
// after division by 2h; the truncation error h²/6·|L'''| is below 1e-7 for these smooth
// losses (|L'''| < 1 after the 1/B scaling), and dz itself is float (rel. error ~1e-7 of
// values <= 1). A tolerance of 1e-5 leaves two orders of margin, while a wrong scale (a missing
// 1/B or 1/K) or sign is off by > 0.05.
// `tol` 5e-5 for softmax with smoothing: its exponentials are float (relative error 6e-8), so the
// log-sum-exp carries up to ~6e-8 absolute error, which the division by 2h turns into up to 3e-5;
// a wrong scale or sign is still off by > 0.05.
void check_loss_gradient(const std::string& name, Rng& rng, double smoothing = 0.0, double tol = 1e-5) {
  const auto cases = loss_cases();
  CAPTURE(name);
  REQUIRE(cases.count(name) == 1);
  for (const auto& c : cases.at(name)) {
    // The hand case's z and a random z of the same shape in (-2, 2).
    Matrix zr(c.z.rows(), c.z.cols());
    for (Index k = 0; k < zr.size(); ++k) zr.data()[k] = 4.0f * rng.uniform() - 2.0f;
    for (const Matrix* zp : std::initializer_list<const Matrix*>{&c.z, &zr}) {
      auto loss = make_loss(name, smoothing);
      const Targets t = c.targets();
      Matrix z = *zp, dz;
      loss->forward(z, t);
      loss->backward(dz);
      REQUIRE(dz.rows() == z.rows());
      REQUIRE(dz.cols() == z.cols());
      for (Index i = 0; i < z.rows(); ++i)
        for (Index j = 0; j < z.cols(); ++j) {
          CAPTURE(i);
          CAPTURE(j);
          const float z0 = z(i, j);
          z(i, j) = z0 + 1e-3f;
          const double up = z(i, j), lp = loss->forward(z, t);
          z(i, j) = z0 - 1e-3f;
          const double down = z(i, j), lm = loss->forward(z, t);
          z(i, j) = z0;
          const double numeric = (lp - lm) / (up - down);
          CHECK(std::fabs(dz(i, j) - numeric) < tol);
        }
    }
  }
}

}  // namespace

TEST_CASE("losses: backward matches central differences of the double loss") {
  Rng rng(11);
  for (const auto& name : loss_registry().names()) check_loss_gradient(name, rng);
}

// One ctest entry per loss, so the test list names each loss's gradient check.
TEST_CASE("loss softmax_cross_entropy: gradient check") {
  Rng rng(12);
  check_loss_gradient("softmax_cross_entropy", rng);
}
TEST_CASE("loss softmax_cross_entropy with label smoothing: hand value and gradient check") {
  // ε = 0.3, K = 3: the target is 0.8 on the label and 0.1 elsewhere.
  // Row 0: z = (0, 0, 0), label 1: log-sum-exp ln 3, Σ q·z = 0, loss ln 3 = 1.0986123.
  // Row 1: z = (0, ln 2, ln 5), label 0: log-sum-exp ln 8, Σ q·z = 0.1 ln 2 + 0.1 ln 5 = 0.1 ln 10,
  //        loss ln 8 - 0.1 ln 10 = 2.0794415 - 0.2302585 = 1.8491830.
  // Mean: 1.4738976.
  auto loss = make_loss("softmax_cross_entropy", 0.3);
  const Matrix z = mat(2, 3, {0, 0, 0, 0, ln2, ln5});
  const std::vector<std::int32_t> y = {1, 0};
  CHECK(loss->forward(z, Targets{y, nullptr}) == doctest::Approx(1.4738976).epsilon(1e-6));
  // dz = (p - q) / B: row 0 p = 1/3 each, q = (0.1, 0.8, 0.1) -> (0.2333, -0.4667, 0.2333) / 2.
  Matrix dz;
  loss->backward(dz);
  CHECK(dz(0, 0) == doctest::Approx((1.0 / 3 - 0.1) / 2).epsilon(1e-6));
  CHECK(dz(0, 1) == doctest::Approx((1.0 / 3 - 0.8) / 2).epsilon(1e-6));
  Rng rng(15);
  check_loss_gradient("softmax_cross_entropy", rng, 0.3, 5e-5);
  // The losses over values take no smoothing.
  CHECK_FALSE(make_loss("mse")->supports_label_smoothing());
}
TEST_CASE("loss sigmoid_binary_cross_entropy: gradient check") {
  Rng rng(13);
  check_loss_gradient("sigmoid_binary_cross_entropy", rng);
}
TEST_CASE("loss mse: gradient check") {
  Rng rng(14);
  check_loss_gradient("mse", rng);
}

TEST_CASE("losses: finite loss and gradient at |z| = 1000") {
  const auto cases = loss_cases();
  for (const auto& name : loss_registry().names()) {
    CAPTURE(name);
    REQUIRE(cases.count(name) == 1);
    for (const auto& c : cases.at(name)) {
      Matrix z(c.z.rows(), c.z.cols());
      for (Index i = 0; i < z.rows(); ++i)
        for (Index j = 0; j < z.cols(); ++j) z(i, j) = (i + j) % 2 ? 1000.0f : -1000.0f;
      auto loss = make_loss(name);
      const double l = loss->forward(z, c.targets());
      CHECK(std::isfinite(l));
      Matrix dz;
      loss->backward(dz);
      CHECK(dz.allFinite());
      Matrix p;
      loss->predict(z, p);
      CHECK(p.allFinite());
    }
  }
  // Exact values: softmax rows (-1000, 1000, -1000) label 1 -> 0; (1000, -1000, 1000) label 1 ->
  // log(2·e^1000) - (-1000) = 2000 + ln 2. Mean: 1000 + ln 2 / 2 = 1000.3465736.
  auto ce = make_loss("softmax_cross_entropy");
  const Matrix z = mat(2, 3, {-1000, 1000, -1000, 1000, -1000, 1000});
  const std::vector<std::int32_t> y = {1, 1};
  CHECK(ce->forward(z, Targets{y, nullptr}) == doctest::Approx(1000.3465736).epsilon(1e-9));
  // Sigmoid BCE: (z = 1000, y = 0) -> 1000, (z = -1000, y = 0) -> 0. Mean 500.
  auto bce = make_loss("sigmoid_binary_cross_entropy");
  const Matrix zb = mat(2, 1, {1000, -1000});
  const std::vector<std::int32_t> yb = {0, 0};
  CHECK(bce->forward(zb, Targets{yb, nullptr}) == doctest::Approx(500.0).epsilon(1e-12));
  Matrix dz;
  bce->backward(dz);  // (σ - t) / 2 = (1/2, 0)
  CHECK(dz(0, 0) == doctest::Approx(0.5));
  CHECK(dz(1, 0) == doctest::Approx(0.0));
}

TEST_CASE("losses: bad targets throw DataError naming the value and the range") {
  const auto bad = bad_target_cases();
  for (const auto& name : loss_registry().names()) {
    CAPTURE(name);
    REQUIRE(bad.count(name) == 1);
    for (const auto& f : bad.at(name)) {
      auto loss = make_loss(name);
      CHECK_THROWS_AS(f(*loss), DataError);
    }
  }
  auto ce = make_loss("softmax_cross_entropy");
  const Matrix z = Matrix::Zero(2, 10);
  const std::vector<std::int32_t> y = {3, 12};
  CHECK_THROWS_WITH_AS(ce->forward(z, Targets{y, nullptr}),
                       doctest::Contains("label 12 of batch row 1 is out of range [0, 10)"), DataError);
}

TEST_CASE("losses: targets of the wrong kind are config errors") {
  // Labels with a 3-wide output: binary classification needs one output.
  auto bce = make_loss("sigmoid_binary_cross_entropy");
  const Matrix z = Matrix::Zero(2, 3);
  const std::vector<std::int32_t> y = {0, 1};
  CHECK_THROWS_AS(bce->forward(z, Targets{y, nullptr}), ConfigError);
  auto mse = make_loss("mse");
  CHECK_THROWS_AS(mse->forward(z, Targets{y, nullptr}), ConfigError);
  CHECK(make_loss("softmax_cross_entropy")->uses_labels());
  CHECK(bce->uses_labels());
  CHECK_FALSE(mse->uses_labels());
  // Unknown keys in a loss object.
  const nlohmann::json j = {{"type", "mse"}, {"reduction", "sum"}};
  CHECK_THROWS_AS(loss_registry().create("mse", ConfigNode(j, "/model/loss", "t.json")), ConfigError);
}

TEST_CASE("losses: predict gives softmax probabilities, sigmoid, identity") {
  Matrix p;
  // exp z = (1, 2, 5) / 8.
  make_loss("softmax_cross_entropy")->predict(mat(1, 3, {0, ln2, ln5}), p);
  CHECK(p(0, 0) == doctest::Approx(0.125));
  CHECK(p(0, 1) == doctest::Approx(0.25));
  CHECK(p(0, 2) == doctest::Approx(0.625));
  // σ(ln 3) = 3/4, σ(-ln 3) = 1/4.
  make_loss("sigmoid_binary_cross_entropy")->predict(mat(1, 2, {ln3, -ln3}), p);
  CHECK(p(0, 0) == doctest::Approx(0.75));
  CHECK(p(0, 1) == doctest::Approx(0.25));
  make_loss("mse")->predict(mat(1, 2, {1.5f, -2}), p);
  CHECK(p(0, 0) == 1.5f);
  CHECK(p(0, 1) == -2.0f);
}

TEST_CASE("losses: the batch size may change between calls") {
  // Softmax CE on uniform scores: loss ln K whatever B; dz row = (1/K - onehot) / B.
  auto ce = make_loss("softmax_cross_entropy");
  Matrix dz;
  for (Index b : {4, 2, 5}) {
    const Matrix z = Matrix::Zero(b, 4);
    const std::vector<std::int32_t> y(static_cast<std::size_t>(b), 2);
    CHECK(ce->forward(z, Targets{y, nullptr}) == doctest::Approx(std::log(4.0)));
    ce->backward(dz);
    REQUIRE(dz.rows() == b);
    CHECK(dz(0, 0) == doctest::Approx(0.25 / static_cast<double>(b)));
    CHECK(dz(0, 2) == doctest::Approx(-0.75 / static_cast<double>(b)));
  }
}
