// Classification metrics against a small hand-worked example.
#include <doctest/doctest.h>

#include "nettrain/train/metrics.h"

using namespace nettrain;

TEST_CASE("metrics: confusion matrix, precision, recall, F1 worked by hand") {
  // true:      0 0 0 1 1 2
  // predicted: 0 0 1 1 2 2
  const std::vector<std::int32_t> t = {0, 0, 0, 1, 1, 2}, p = {0, 0, 1, 1, 2, 2};
  const ClassReport r = classification_report(t, p, 3);
  CHECK(r.confusion == std::vector<std::vector<std::int64_t>>{{2, 1, 0}, {0, 1, 1}, {0, 0, 1}});
  // class 0: tp 2, predicted 2, support 3 -> P 1, R 2/3, F1 0.8
  CHECK(r.precision[0] == doctest::Approx(1.0));
  CHECK(r.recall[0] == doctest::Approx(2.0 / 3));
  CHECK(r.f1[0] == doctest::Approx(0.8));
  // class 1: tp 1, predicted 2, support 2 -> P 0.5, R 0.5, F1 0.5
  CHECK(r.f1[1] == doctest::Approx(0.5));
  // class 2: tp 1, predicted 2, support 1 -> P 0.5, R 1, F1 2/3
  CHECK(r.precision[2] == doctest::Approx(0.5));
  CHECK(r.recall[2] == doctest::Approx(1.0));
  CHECK(r.accuracy == doctest::Approx(4.0 / 6));
  CHECK(r.macro_f1 == doctest::Approx((0.8 + 0.5 + 2.0 / 3) / 3));
  CHECK(r.weighted_f1 == doctest::Approx((0.8 * 3 + 0.5 * 2 + 2.0 / 3) / 6));
  CHECK(r.support == std::vector<std::int64_t>{3, 2, 1});
  // A class never predicted has precision 0, not NaN.
  const ClassReport none = classification_report(std::vector<std::int32_t>{1}, std::vector<std::int32_t>{0}, 2);
  CHECK(none.precision[1] == 0.0);
}

TEST_CASE("metrics: top-k accuracy and the top-k list") {
  Matrix z(3, 4);
  z << 0.1f, 0.5f, 0.3f, 0.1f,   // order 1, 2, 0/3 (tie -> 0 first)
      0.9f, 0.0f, 0.05f, 0.05f,  //
      0.2f, 0.2f, 0.2f, 0.4f;
  CHECK(top_k(z, 0, 3) == std::vector<std::int32_t>{1, 2, 0});
  const std::vector<std::int32_t> labels = {2, 3, 1};
  CHECK(top_k_accuracy(z, labels, 1) == doctest::Approx(0.0));
  // top-2 per row: {1, 2} holds 2; {0, 2} (tie 2/3 -> 2) lacks 3; {3, 0} (tie -> 0) lacks 1.
  CHECK(top_k_accuracy(z, labels, 2) == doctest::Approx(1.0 / 3));
  // top-3: {1, 2, 0}, {0, 2, 3}, {3, 0, 1} hold all three labels.
  CHECK(top_k_accuracy(z, labels, 3) == doctest::Approx(1.0));
}

TEST_CASE("metrics: top-k of one sigmoid output ranks both classes, as two softmax outputs would") {
  Matrix z(3, 1);
  z << 2.0f, -0.5f, 0.3f;  // classes 1, 0, 1
  CHECK(top_k(z, 0, 2) == std::vector<std::int32_t>{1, 0});
  CHECK(top_k(z, 1, 2) == std::vector<std::int32_t>{0, 1});
  CHECK(top_k(z, 1, 1) == std::vector<std::int32_t>{0});
  const std::vector<std::int32_t> labels = {1, 1, 1};
  CHECK(top_k_accuracy(z, labels, 1) == doctest::Approx(2.0 / 3));
  CHECK(top_k_accuracy(z, labels, 2) == doctest::Approx(1.0));
  CHECK(top_k_accuracy(z, labels, 5) == doctest::Approx(1.0));
}
