// The ONNX graph under construction, and the layout of each network value in it.
//
// nettrain keeps every value as a (batch, features) row, channel-major for images. In ONNX a
// value is either that flat [N, F] tensor or, for a [C, H, W] sample shape, the [N, C, H, W]
// tensor that Conv and the pools need. A Value remembers the forms made so far, and flat() and
// nchw() add the Flatten or Reshape that makes the other one, once.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "nettrain/layers/network.h"
#include "onnx_proto.h"

namespace nettrain::onnx {

class GraphBuilder {
 public:
  explicit GraphBuilder(Graph& g) : g_(g) {}

  // A name not used before: `want`, else `want_2`, `want_3`, ...
  std::string unique(const std::string& want);
  // Initializers; each returns the (unique) name it got.
  std::string constant(const std::string& name, std::vector<std::int64_t> dims, std::span<const float> values);
  std::string scalar(const std::string& name, float value);
  std::string ints(const std::string& name, const std::vector<std::int64_t>& values);
  // A node with one output named (uniquely) `output`; returns that name.
  std::string node(const std::string& op_type, std::vector<std::string> inputs, const std::string& output,
                   std::vector<Attribute> attributes = {});

  Graph& graph() { return g_; }

 private:
  Graph& g_;
  std::set<std::string> used_;
};

struct Value {
  std::string base;       // name stem for the forms: the node or input name
  Shape shape;            // the sample shape, as nettrain sees it
  std::string flat_name;  // [N, size] form, "" until made
  std::string nchw_name;  // [N, C, H, W] form (rank-3 shapes only), "" until made
};

// The flat form of v, made from the NCHW one with Flatten when missing.
const std::string& flat(GraphBuilder& g, Value& v);
// The NCHW form of v (v.shape must be [C, H, W]), made with Reshape when missing.
const std::string& nchw(GraphBuilder& g, Value& v);

// What a layer's emitter sees.
struct LayerContext {
  GraphBuilder& g;
  const Network& net;
  std::size_t node;  // index in the network
  const NodeInfo& info;
  std::vector<Value*> inputs;
  nlohmann::json settings;  // Layer::settings()
  std::string where;        // "MODEL: layer NAME (TYPE)" for messages

  // The node's tensor "<name>.<suffix>" as an initializer (its saved shape); throws
  // ModelFileError when the model has no such tensor.
  std::string tensor(const std::string& suffix) const;
  bool has_tensor(const std::string& suffix) const;
  // A new Value for this node's output (named after the node) in flat or NCHW form.
  Value output_flat(const std::string& op_type, std::vector<std::string> in, std::vector<Attribute> attrs = {}) const;
  Value output_nchw(const std::string& op_type, std::vector<std::string> in, std::vector<Attribute> attrs = {}) const;
};

// Emits the ONNX nodes of one layer and returns its output value.
using Emitter = Value (*)(LayerContext&);
// The one table of layer type -> emitter (onnx_layers.cpp).
const std::map<std::string, Emitter>& emitters();

}  // namespace nettrain::onnx
