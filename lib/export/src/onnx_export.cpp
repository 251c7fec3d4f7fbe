// export_onnx: the graph input and the preprocessing, one emitter per layer (onnx_layers.cpp),
// the outputs, the metadata; see nettrain/export/onnx.h.
#include <fmt/format.h>

#include <map>

#include "nettrain/core/errors.h"
#include "nettrain/export/onnx.h"
#include "nettrain/run/model_data.h"
#include "onnx_graph.h"
#include "onnx_proto.h"

namespace nettrain {

namespace {

using onnx::Attribute;
using onnx::GraphBuilder;
using onnx::Value;

// The IR version that came with each opset (ONNX's versioning table), so a runtime that knows
// the opset also accepts the file.
std::int64_t ir_version_for(int opset) {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

// The operator that turns the logits into probabilities, per loss; none for regression.
const std::map<std::string, std::string>& probability_ops() {
  static const std::map<std::string, std::string> table = {{"softmax_cross_entropy", "Softmax"},
                                                           {"sigmoid_binary_cross_entropy", "Sigmoid"}};
  return table;
}

void check_options(const OnnxSource& src, const OnnxOptions& o) {
  if (o.opset < kOnnxMinOpset || o.opset > kOnnxMaxOpset)
    throw ConfigError(fmt::format("--opset: expected {} to {}, got {}", kOnnxMinOpset, kOnnxMaxOpset, o.opset));
  if (o.batch < 0) throw ConfigError(fmt::format("--batch: expected a positive size, got {}", o.batch));
  if (o.probabilities && probability_ops().count(src.loss_type) == 0)
    throw ConfigError(
        fmt::format("--probabilities: {} is a regression model (loss {}); its outputs are not probabilities", src.where,
                    src.loss_type));
}

// "input" -> x·scale -> (x − mean)·(1/std): exactly Preprocess::apply_row, in float.
std::string preprocess(GraphBuilder& g, const OnnxSource& src, std::int64_t features) {
  const Preprocess& pp = src.preprocess;
  std::string x = "input";
  const auto scale = static_cast<float>(pp.scale);
  if (scale != 1.0f) x = g.node("Mul", {x, g.scalar("preprocess/scale", scale)}, "preprocess/scaled");
  if (pp.fitted()) {
    if (static_cast<std::int64_t>(pp.mean().size()) != features)
      throw ModelFileError(fmt::format("{}: preprocess: {} standardize means, the model takes {} features", src.where,
                                       pp.mean().size(), features));
    std::vector<float> inv(pp.stddev().size());
    for (std::size_t j = 0; j < inv.size(); ++j) inv[j] = 1.0f / pp.stddev()[j];
    x = g.node("Sub", {x, g.constant("preprocess/mean", {features}, pp.mean())}, "preprocess/centred");
    x = g.node("Mul", {x, g.constant("preprocess/inv_std", {features}, inv)}, "preprocess/standardized");
  }
  return x;
}

// The network inputs as values: the preprocessed features, or column blocks of them.
std::map<std::string, Value> network_inputs(GraphBuilder& g, const Network& net, const std::string& features) {
  std::map<std::string, Value> values;
  const auto inputs = net.inputs();
  std::int64_t column = 0;
  for (const auto& in : inputs) {
    Value v{in.name, in.shape, features, ""};
    const std::int64_t width = in.shape.size();
    if (inputs.size() > 1)
      v.flat_name = g.node("Slice",
                           {features, g.ints(in.name + "/starts", {column}),
                            g.ints(in.name + "/ends", {column + width}), g.ints(in.name + "/axes", {1})},
                           "inputs/" + in.name);
    column += width;
    values.emplace(in.name, std::move(v));
  }
  return values;
}

// Every node through its emitter; returns the flat name of the network's output.
std::string layers(GraphBuilder& g, const OnnxSource& src, std::map<std::string, Value>& values) {
  const Network& net = *src.net;
  const std::vector<NodeInfo> nodes = net.summary();
  std::string last;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeInfo& info = nodes[i];
    const std::string where = fmt::format("{}: layer \"{}\" ({})", src.where, info.name, info.type);
    const auto it = onnx::emitters().find(info.type);
    if (it == onnx::emitters().end())
      throw ModelFileError(fmt::format("{}: no ONNX mapping for this layer type; the exporter maps {}", where,
                                       fmt::join(onnx_layer_types(), ", ")));
    onnx::LayerContext c{g, net, i, info, {}, net.layer(i).settings(), where};
    for (const auto& name : info.inputs) c.inputs.push_back(&values.at(name));
    try {
      values.insert_or_assign(info.name, it->second(c));
    } catch (const nlohmann::json::exception& e) {
      throw ModelFileError(fmt::format("{}: unexpected settings {}: {}", where, c.settings.dump(), e.what()));
    }
    last = info.name;
  }
  return onnx::flat(g, values.at(last));
}

// Gives the network's output the name `name`: renames the node that makes it when nothing
// else reads it, else adds an Identity.
void name_output(GraphBuilder& g, const std::string& value, const std::string& name) {
  auto& nodes = g.graph().nodes;
  std::size_t readers = 0;
  onnx::Node* producer = nullptr;
  for (auto& n : nodes) {
    for (const auto& in : n.inputs) readers += in == value ? 1 : 0;
    if (n.outputs[0] == value) producer = &n;
  }
  if (producer != nullptr && readers == 0) {
    producer->outputs[0] = name;  // reserved at the start
    producer->name = name;
  } else {
    g.graph().nodes.push_back({"Identity", name, {value}, {name}, {}});
  }
}

std::vector<std::pair<std::string, std::string>> metadata(const OnnxSource& src) {
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& in : src.net->inputs()) inputs.push_back({{"name", in.name}, {"shape", in.shape.dims}});
  return {{"nettrain_version", NETTRAIN_VERSION},
          {"name", src.name},
          {"loss", src.loss_type},
          {"class_names", nlohmann::json(src.class_names).dump()},
          {"inputs", inputs.dump()}};
}

}  // namespace

std::vector<std::string> onnx_layer_types() {
  std::vector<std::string> out;
  for (const auto& [type, emit] : onnx::emitters()) out.push_back(type);
  return out;
}

OnnxExport export_onnx(const OnnxSource& src, const OnnxOptions& options) {
  check_options(src, options);
  onnx::Model m;
  m.ir_version = ir_version_for(options.opset);
  m.opset = options.opset;
  m.producer_name = "nettrain";
  m.producer_version = NETTRAIN_VERSION;
  m.metadata = metadata(src);
  m.graph.name = src.name.empty() ? "nettrain" : src.name;
  m.graph.doc = "input: raw feature values, as nettrain predict reads them; the preprocessing is in the graph";
  GraphBuilder g(m.graph);

  const std::int64_t batch = options.batch > 0 ? options.batch : -1;
  const std::int64_t features = src.net->input_size();
  for (const char* reserved : {"input", "logits", "output", "probabilities"}) g.unique(reserved);
  m.graph.inputs.push_back({"input", {batch, features}, "raw feature values, one sample per row"});
  std::map<std::string, Value> values = network_inputs(g, *src.net, preprocess(g, src, features));
  const std::string logits = layers(g, src, values);

  const bool classifier = probability_ops().count(src.loss_type) != 0;
  const std::string out_name = classifier ? "logits" : "output";
  const std::int64_t outputs = src.net->output_shape().size();
  name_output(g, logits, out_name);
  m.graph.outputs.push_back({out_name, {batch, outputs}, "the network's output"});
  if (options.probabilities) {
    const std::string& op = probability_ops().at(src.loss_type);
    std::vector<Attribute> attrs;
    if (op == "Softmax") attrs.push_back({"axis", std::int64_t{1}});
    m.graph.nodes.push_back({op, "probabilities", {out_name}, {"probabilities"}, attrs});
    m.graph.outputs.push_back({"probabilities", {batch, outputs}, "class probabilities (" + op + " of the logits)"});
  }

  OnnxExport out;
  out.bytes = onnx::serialize(m);
  for (const auto& v : m.graph.inputs) out.inputs.push_back({v.name, v.dims});
  for (const auto& v : m.graph.outputs) out.outputs.push_back({v.name, v.dims});
  out.nodes = m.graph.nodes.size();
  out.ir_version = m.ir_version;
  return out;
}

OnnxSource onnx_source(const LoadedModel& m) {
  OnnxSource s;
  s.net = &m.net;
  s.preprocess = Preprocess::from_json(m.meta.preprocess);
  s.loss_type = m.loss->type();
  s.name = m.config.json.value("name", "");
  s.where = m.file.path();
  if (m.loss->uses_labels()) s.class_names = class_labels(m);
  return s;
}

}  // namespace nettrain
