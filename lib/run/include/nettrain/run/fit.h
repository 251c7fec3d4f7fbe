// The one check that ties data to a model: feature count against the network's input, class
// labels or regression targets against its outputs and its loss. Used before training (train,
// gradcheck), on data headers (validate) and on data for a saved model (eval, predict).
#pragma once

#include <string>

#include "nettrain/core/config_node.h"
#include "nettrain/data/data.h"
#include "nettrain/layers/network.h"
#include "nettrain/train/loss.h"

namespace nettrain {

// What the check needs to know of one split: from loaded samples or from data headers.
struct SplitFacts {
  std::string source;  // file name(s), for messages
  std::string split;   // "train", "validation", "test" (or "" for data given on the command line)
  Index features = 0;
  Task task = Task::classification;
  bool labeled = true;               // false: features only (predict's input)
  int num_classes = 0;               // classes the labels use
  Index num_targets = 0;             // regression target columns
  const Dataset* samples = nullptr;  // when loaded: a bad label is named by its sample
};
SplitFacts split_facts(const Dataset& d, const std::string& split);
SplitFacts split_facts(const SplitSummary& s);

// Throws DataError (features, labels, targets) or ConfigError at `model`'s "loss" key (a loss
// that cannot take this kind of target), naming the split's source.
void check_data_fits(const SplitFacts& s, const Network& net, const Loss& loss, const ConfigNode& model);
// The same for every split of a bundle.
void check_data_fits(const DataBundle& data, const Network& net, const Loss& loss, const ConfigNode& model);

}  // namespace nettrain
