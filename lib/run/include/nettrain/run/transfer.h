// Fine-tuning: start from a saved model's weights (model.init_from) and keep some layers fixed
// (model.freeze), as Caffe's --weights and Keras' load_weights(by_name=True) + trainable=False.
//
//   "model": {"init_from": "runs/cnn/model.safetensors", "freeze": ["conv1", "conv2"], ...}
//
// init_from: a .safetensors file or a run directory (its model.safetensors); tensors are matched
// by name ("conv1.weight"); a matching name with another shape is an error; names only in the file
// are ignored, names only in the network keep their initialisation. At least one must match.
// freeze: layer names whose parameters (and batchnorm running statistics) do not change.
#pragma once

#include <string>
#include <vector>

#include "nettrain/core/config_node.h"
#include "nettrain/layers/network.h"
#include "nettrain/train/trainer.h"

namespace nettrain {

struct InitFromReport {
  std::string path;                 // the file read
  std::vector<std::string> loaded;  // tensors copied from it
  std::vector<std::string> kept;    // tensors of the network it does not have
};

// Copies the file's tensors into `net` by name. Throws ModelFileError (exit 4) naming the file and
// the tensor for a shape or dtype mismatch, or when no tensor name matches; IoError when unreadable.
InitFromReport init_from(Network& net, const std::string& path);

// The slices of params() and buffers() that belong to the layers named in model.freeze. Throws
// ConfigError at /model/freeze/i for a name that is not a layer or a layer without parameters.
std::vector<FrozenSlice> frozen_slices(const Network& net, const ConfigNode& model);

}  // namespace nettrain
