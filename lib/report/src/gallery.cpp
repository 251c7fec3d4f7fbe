// The image sections of the report; see gallery.h.
#include "nettrain/report/gallery.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nettrain/report/html.h"

namespace nettrain::report {

namespace {

constexpr std::size_t kWorst = 40;        // images in the "most confidently wrong" gallery
constexpr std::size_t kConfusedWith = 2;  // per class, the classes it is most often taken for
constexpr std::size_t kExamplesPerPair = 8;

struct Mistake {
  std::int64_t index;
  std::int32_t truth, predicted;
  double probability;  // the model's probability of the predicted class
};

// The probability of the predicted class: softmax over several outputs, sigmoid over one.
double predicted_probability(const Matrix& z, Index row, std::int32_t predicted) {
  if (z.cols() == 1) {
    const double p1 = 1.0 / (1.0 + std::exp(-static_cast<double>(z(row, 0))));
    return predicted == 1 ? p1 : 1.0 - p1;
  }
  const double top = z.row(row).maxCoeff();
  double sum = 0;
  for (Index c = 0; c < z.cols(); ++c) sum += std::exp(static_cast<double>(z(row, c)) - top);
  return std::exp(static_cast<double>(z(row, predicted)) - top) / sum;
}

// Wrong predictions, most confident first (ties by sample index).
std::vector<Mistake> mistakes(const TestOutputs& t) {
  std::vector<Mistake> out;
  for (std::size_t i = 0; i < t.predicted.size(); ++i) {
    const std::int32_t truth = t.data->labels[i], pred = t.predicted[i];
    if (truth != pred)
      out.push_back(
          {static_cast<std::int64_t>(i), truth, pred, predicted_probability(t.outputs, static_cast<Index>(i), pred)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Mistake& a, const Mistake& b) { return a.probability > b.probability; });
  return out;
}

std::string name_of(const TestOutputs& t, std::int32_t c) {
  const auto i = static_cast<std::size_t>(c);
  return i < t.class_names.size() ? t.class_names[i] : std::to_string(c);
}

std::string img(const TestOutputs& t, std::int64_t index, const std::vector<std::int64_t>& shape,
                const std::string& alt) {
  return "<img src=\"" + png_data_uri(sample_png(*t.data, index, shape)) + "\" alt=\"" + escape_html(alt) +
         "\" title=\"" + escape_html(alt) + "\">";
}

std::string worst_gallery(const TestOutputs& t, const std::vector<Mistake>& wrong,
                          const std::vector<std::int64_t>& shape) {
  std::string out = "<h3>Most confidently wrong</h3>\n<p class=\"lead\">The " +
                    std::to_string(std::min(kWorst, wrong.size())) +
                    " test images the model got wrong with the "
                    "highest probability (of " +
                    count(static_cast<long long>(wrong.size())) +
                    " mistakes).</p>\n"
                    "<div class=\"gallery\">\n";
  for (std::size_t i = 0; i < std::min(kWorst, wrong.size()); ++i) {
    const Mistake& m = wrong[i];
    const std::string alt = "sample " + std::to_string(m.index);
    out += "<figure>" + img(t, m.index, shape, alt) + "<figcaption>true <b>" + escape_html(name_of(t, m.truth)) +
           "</b><br>pred <b>" + escape_html(name_of(t, m.predicted)) + "</b> " + fixed(m.probability, 3) +
           "</figcaption></figure>\n";
  }
  return out + "</div>\n";
}

// Per true class: the classes it is most often predicted as, with the most confident examples.
std::string confusions_table(const TestOutputs& t, const std::vector<Mistake>& wrong,
                             const std::vector<std::int64_t>& shape) {
  const auto k = static_cast<std::int32_t>(t.class_names.size());
  std::vector<std::vector<std::vector<std::int64_t>>> examples(
      static_cast<std::size_t>(k), std::vector<std::vector<std::int64_t>>(static_cast<std::size_t>(k)));
  std::vector<std::vector<std::size_t>> counts(static_cast<std::size_t>(k),
                                               std::vector<std::size_t>(static_cast<std::size_t>(k)));
  for (const Mistake& m : wrong) {
    if (m.truth >= k || m.predicted >= k) continue;
    auto& list = examples[static_cast<std::size_t>(m.truth)][static_cast<std::size_t>(m.predicted)];
    ++counts[static_cast<std::size_t>(m.truth)][static_cast<std::size_t>(m.predicted)];
    if (list.size() < kExamplesPerPair) list.push_back(m.index);  // `wrong` is most confident first
  }
  std::string out =
      "<h3>What each class is mistaken for</h3>\n<div class=\"scroll\"><table class=\"confusions\">\n"
      "<thead><tr><th>true class</th><th>predicted as</th><th class=\"num\">count</th>"
      "<th>most confident examples</th></tr></thead><tbody>\n";
  for (std::int32_t c = 0; c < k; ++c) {
    const auto& row = counts[static_cast<std::size_t>(c)];
    std::vector<std::int32_t> order(static_cast<std::size_t>(k));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
      return row[static_cast<std::size_t>(a)] > row[static_cast<std::size_t>(b)];
    });
    for (std::size_t r = 0; r < std::min<std::size_t>(kConfusedWith, order.size()); ++r) {
      const std::int32_t p = order[r];
      if (p == c || row[static_cast<std::size_t>(p)] == 0) continue;
      out += "<tr><td>" + escape_html(name_of(t, c)) + "</td><td>" + escape_html(name_of(t, p)) +
             "</td><td class=\"num\">" + std::to_string(row[static_cast<std::size_t>(p)]) + "</td><td>";
      for (const auto idx : examples[static_cast<std::size_t>(c)][static_cast<std::size_t>(p)])
        out += img(t, idx, shape, "sample " + std::to_string(idx));
      out += "</td></tr>\n";
    }
  }
  return out + "</tbody></table></div>\n";
}

}  // namespace

std::vector<std::int64_t> image_shape(const RunData& run, const Dataset& data) {
  std::vector<std::int64_t> shape;
  const auto input = run.config.value("/model/input_shape"_json_pointer, nlohmann::json());
  if (input.is_array() && input.size() == 3 &&
      std::all_of(input.begin(), input.end(), [](const auto& v) { return v.is_number_integer(); }))
    shape = {input[0].get<std::int64_t>(), input[1].get<std::int64_t>(), input[2].get<std::int64_t>()};
  else if (data.sample_shape.dims.size() == 2) shape = {1, data.sample_shape.dims[0], data.sample_shape.dims[1]};
  else if (data.sample_shape.dims.size() == 3) shape = data.sample_shape.dims;
  if (shape.empty() || shape[0] * shape[1] * shape[2] != data.num_features()) return {};
  return shape;
}

std::string gallery_html(const TestOutputs& t, const std::vector<std::int64_t>& shape) {
  if (shape.empty() || !t.data || t.predicted.empty()) return "";
  const std::vector<Mistake> wrong = mistakes(t);
  if (wrong.empty()) return "<p>No test image is misclassified.</p>\n";
  return worst_gallery(t, wrong, shape) + confusions_table(t, wrong, shape);
}

}  // namespace nettrain::report
