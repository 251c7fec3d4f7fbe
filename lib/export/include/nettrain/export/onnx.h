// ONNX export: a trained model as an ONNX graph that any ONNX runtime runs, preprocessing
// included, so a deployment feeds it exactly what `nettrain predict` reads.
//
//   input   "input"          float32 [batch, F]  raw feature values (pixels 0-255 for IDX), F =
//                                                the model's input size; several named network
//                                                inputs are consecutive column blocks, as in a CSV
//   output  "logits"         float32 [batch, K]  the network's output ("output" for a regression
//                                                model, whose loss has no probabilities)
//   output  "probabilities"  float32 [batch, K]  with `probabilities`: softmax of the logits, or
//                                                the sigmoid for sigmoid_binary_cross_entropy
//
// The graph starts with the stored preprocessing (x·scale, then (x − mean)·(1/std)), reshapes
// to [batch, C, H, W] where a layer needs images, and maps each layer to ONNX operators in one
// table (onnx_layers.cpp); dropout is left out (inference). `batch` is the symbolic dimension
// "batch" unless OnnxOptions::batch fixes it. metadata_props: nettrain_version, class_names
// (JSON array), loss, inputs (JSON), name.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nettrain/data/data.h"
#include "nettrain/run/model_file.h"
#include "nettrain/layers/network.h"

namespace nettrain {

inline constexpr int kOnnxMinOpset = 13;  // what most runtimes accept
inline constexpr int kOnnxMaxOpset = 21;  // the operators used here are unchanged up to 21

struct OnnxOptions {
  int opset = kOnnxMinOpset;
  bool probabilities = false;  // append softmax / sigmoid as a second output
  std::int64_t batch = 0;      // > 0: fixed batch size; 0: symbolic
};

// What the exporter reads from a model; onnx_source() fills it from a loaded model file.
struct OnnxSource {
  const Network* net = nullptr;
  Preprocess preprocess;
  std::string loss_type;                 // "softmax_cross_entropy", "mse", ...
  std::vector<std::string> class_names;  // the labels of the outputs ([] for regression)
  std::string name;                      // the model's name (graph name)
  std::string where;                     // the model file, for messages
};
OnnxSource onnx_source(const LoadedModel& m);

struct OnnxValue {
  std::string name;
  std::vector<std::int64_t> dims;  // -1: the symbolic batch dimension
};

struct OnnxExport {
  std::string bytes;  // the ModelProto, as a .onnx file holds it
  std::vector<OnnxValue> inputs, outputs;
  std::size_t nodes = 0;
  std::int64_t ir_version = 0;
};

// Builds the ONNX model. Throws ModelFileError naming the layer when a layer type has no ONNX
// mapping or its tensors are missing, ConfigError for options out of range (opset, batch) or
// `probabilities` on a model whose loss has none.
OnnxExport export_onnx(const OnnxSource& src, const OnnxOptions& options);

// The layer types the exporter maps (for the coverage test: every registered layer is here).
std::vector<std::string> onnx_layer_types();

}  // namespace nettrain
