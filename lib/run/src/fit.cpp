// Data against a model; see fit.h.
#include "nettrain/run/fit.h"

#include <fmt/format.h>

#include "nettrain/core/errors.h"

namespace nettrain {

SplitFacts split_facts(const Dataset& d, const std::string& split) {
  const bool labeled = d.task == Task::classification ? d.has_labels() : d.num_targets() > 0;
  return {d.source, split, d.num_features(), d.task, labeled, d.num_classes, d.num_targets(), &d};
}

SplitFacts split_facts(const SplitSummary& s) {
  return {s.source, s.name, s.sample_shape.size(), s.task, true, s.num_classes, s.num_targets, nullptr};
}

void check_data_fits(const SplitFacts& s, const Network& net, const Loss& loss, const ConfigNode& model) {
  const std::string where = s.split.empty() ? s.source : fmt::format("{} ({})", s.source, s.split);
  if (s.features != net.input_size())
    throw DataError(fmt::format("{}: {} features per sample, but the model's input takes {} ({})", where, s.features,
                                net.input_size(), net.input_shape().str()));
  if (!s.labeled) return;
  const Index out = net.output_shape().size();
  if (s.task == Task::classification) {
    if (!loss.uses_labels())
      model.fail("loss", fmt::format("{} needs numeric targets (data task \"regression\"), but {} has class labels",
                                     loss.type(), where));
    if (s.samples) s.samples->check_labels(static_cast<int>(class_count(out)));
    else if (s.num_classes > class_count(out))
      throw DataError(fmt::format("{}: {} classes, but the model has {} output(s)", where, s.num_classes, out));
  } else {
    if (!loss.uses_values())
      model.fail("loss", fmt::format("{} needs class labels, but {} is a regression task", loss.type(), where));
    if (s.num_targets != out)
      throw DataError(fmt::format("{}: {} target column(s), but the model's output has {}", where, s.num_targets, out));
  }
}

void check_data_fits(const DataBundle& data, const Network& net, const Loss& loss, const ConfigNode& model) {
  check_data_fits(split_facts(data.train, "train"), net, loss, model);
  if (data.validation) check_data_fits(split_facts(*data.validation, "validation"), net, loss, model);
  if (data.test) check_data_fits(split_facts(*data.test, "test"), net, loss, model);
}

}  // namespace nettrain
