// The ONNX graph under construction and the two layouts of a value; see onnx_graph.h.
#include "onnx_graph.h"

#include <fmt/format.h>

#include <cstring>

#include "nettrain/core/errors.h"

namespace nettrain::onnx {

namespace {

template <typename T>
std::string le_bytes(std::span<const T> values) {
  std::string raw(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  return raw;
}

}  // namespace

std::string GraphBuilder::unique(const std::string& want) {
  std::string name = want;
  for (int k = 2; used_.count(name) != 0; ++k) name = fmt::format("{}_{}", want, k);
  used_.insert(name);
  return name;
}

std::string GraphBuilder::constant(const std::string& name, std::vector<std::int64_t> dims,
                                   std::span<const float> values) {
  Tensor t{unique(name), DataType::float32, std::move(dims), le_bytes(values)};
  g_.initializers.push_back(std::move(t));
  return g_.initializers.back().name;
}

std::string GraphBuilder::scalar(const std::string& name, float value) {
  return constant(name, {}, std::span<const float>(&value, 1));
}

std::string GraphBuilder::ints(const std::string& name, const std::vector<std::int64_t>& values) {
  Tensor t{unique(name),
           DataType::int64,
           {static_cast<std::int64_t>(values.size())},
           le_bytes(std::span<const std::int64_t>(values))};
  g_.initializers.push_back(std::move(t));
  return g_.initializers.back().name;
}

std::string GraphBuilder::node(const std::string& op_type, std::vector<std::string> inputs, const std::string& output,
                               std::vector<Attribute> attributes) {
  Node n{op_type, "", std::move(inputs), {unique(output)}, std::move(attributes)};
  n.name = n.outputs[0];  // node names live in their own namespace: the output's name is unique
  g_.nodes.push_back(std::move(n));
  return g_.nodes.back().outputs[0];
}

const std::string& flat(GraphBuilder& g, Value& v) {
  if (v.flat_name.empty())
    v.flat_name = g.node("Flatten", {v.nchw_name}, v.base + "/flat", {{"axis", std::int64_t{1}}});
  return v.flat_name;
}

const std::string& nchw(GraphBuilder& g, Value& v) {
  if (v.nchw_name.empty()) {
    // 0 copies the batch dimension, so shape inference keeps it symbolic.
    const std::string shape = g.ints(v.base + "/nchw_shape", {0, v.shape[0], v.shape[1], v.shape[2]});
    v.nchw_name = g.node("Reshape", {v.flat_name, shape}, v.base + "/nchw");
  }
  return v.nchw_name;
}

bool LayerContext::has_tensor(const std::string& suffix) const {
  const std::string name = info.name + "." + suffix;
  for (const auto& t : net.tensors())
    if (t.name == name) return true;
  return false;
}

std::string LayerContext::tensor(const std::string& suffix) const {
  const std::string name = info.name + "." + suffix;
  for (const auto& t : net.tensors()) {
    if (t.name != name) continue;
    const Vector& store = t.trainable ? net.params() : net.buffers();
    return g.constant(name, std::vector<std::int64_t>(t.shape.begin(), t.shape.end()),
                      std::span<const float>(store.data() + t.offset, static_cast<std::size_t>(t.size)));
  }
  throw ModelFileError(fmt::format("{}: no tensor \"{}\"", where, name));
}

Value LayerContext::output_flat(const std::string& op_type, std::vector<std::string> in,
                                std::vector<Attribute> attrs) const {
  Value v{info.name, info.output_shape, "", ""};
  v.flat_name = g.node(op_type, std::move(in), info.name, std::move(attrs));
  return v;
}

Value LayerContext::output_nchw(const std::string& op_type, std::vector<std::string> in,
                                std::vector<Attribute> attrs) const {
  Value v{info.name, info.output_shape, "", ""};
  v.nchw_name = g.node(op_type, std::move(in), info.name, std::move(attrs));
  return v;
}

}  // namespace nettrain::onnx
