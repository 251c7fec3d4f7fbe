// Layer type -> ONNX operators: the one table of the exporter, one small emitter per type.
//
//   affine           Gemm(x, W [in, out], b)               (our W is already [in, out])
//   relu, sigmoid,   Relu, Sigmoid, Tanh, LeakyRelu(alpha = slope), in the input's layout
//   tanh, leaky_relu
//   softmax          Softmax(axis = 1) over the flat row
//   dropout          nothing: inference is the identity
//   batchnorm        BatchNormalization(x, weight, bias, running_mean, running_var, epsilon),
//                    on [N, F] or on [N, C, H, W]
//   add, mul         Add, Mul (NCHW when both inputs already have it, else flat)
//   exp              Exp(x · ln a)  (the Mul left out for a = e)
//   pow              Pow(x, n)
//   scale            Mul(x, factor), Add(·, offset)  (each left out when it changes nothing)
//   conv2d           Conv(x, W [F, C, kh, kw], b), strides, pads
//   maxpool2d        MaxPool, strides, pads (padding never wins, as ours)
//   avgpool2d        AveragePool with count_include_pad = 1 (padding counted as zeros, as ours)
//   global_avg_pool  GlobalAveragePool, then Flatten to [N, C]
//   flatten          Flatten of the NCHW form (nothing when the value is already flat)
//
// Pads: ONNX takes [top, left, bottom, right]; ours are `pad_before` and the output size, so
// bottom = (OH − 1)·sh + kh − H − top (clamped at 0: then the last input rows are simply not
// reached), which gives ONNX the same output size for "valid", "same" and explicit padding.
#include <fmt/format.h>

#include <algorithm>

#include "nettrain/core/errors.h"
#include "onnx_graph.h"

namespace nettrain::onnx {

namespace {

using Ints = std::vector<std::int64_t>;

Ints pair(const nlohmann::json& j) { return {j.at(0).get<std::int64_t>(), j.at(1).get<std::int64_t>()}; }

// kernel_shape, strides and pads of a conv2d or pooling layer.
std::vector<Attribute> window_attributes(const LayerContext& c) {
  const Ints k = pair(c.settings.at("kernel")), s = pair(c.settings.at("stride")),
             before = pair(c.settings.at("pad_before"));
  const Shape& in = c.inputs[0]->shape;
  const Shape& out = c.info.output_shape;
  const std::int64_t bottom = std::max<std::int64_t>(0, (out[1] - 1) * s[0] + k[0] - in[1] - before[0]);
  const std::int64_t right = std::max<std::int64_t>(0, (out[2] - 1) * s[1] + k[1] - in[2] - before[1]);
  return {{"kernel_shape", k}, {"strides", s}, {"pads", Ints{before[0], before[1], bottom, right}}};
}

// `op` over x (then `extra` inputs) in x's layout: NCHW when that is the only form made so far.
Value elementwise(GraphBuilder& g, Value& x, const std::string& name, const std::string& op,
                  std::vector<std::string> extra = {}, std::vector<Attribute> attrs = {}) {
  const bool spatial = x.flat_name.empty();
  std::vector<std::string> in{spatial ? x.nchw_name : x.flat_name};
  in.insert(in.end(), extra.begin(), extra.end());
  Value v{name, x.shape, "", ""};
  (spatial ? v.nchw_name : v.flat_name) = g.node(op, in, name, std::move(attrs));
  return v;
}

Value unary(LayerContext& c, const std::string& op, std::vector<std::string> extra = {},
            std::vector<Attribute> attrs = {}) {
  return elementwise(c.g, *c.inputs[0], c.info.name, op, std::move(extra), std::move(attrs));
}

Value affine(LayerContext& c) {
  std::vector<std::string> in{flat(c.g, *c.inputs[0]), c.tensor("weight")};
  if (c.has_tensor("bias")) in.push_back(c.tensor("bias"));
  return c.output_flat("Gemm", in);
}

Value relu(LayerContext& c) { return unary(c, "Relu"); }
Value sigmoid(LayerContext& c) { return unary(c, "Sigmoid"); }
Value tanh_(LayerContext& c) { return unary(c, "Tanh"); }
Value leaky_relu(LayerContext& c) {
  return unary(c, "LeakyRelu", {}, {{"alpha", c.settings.at("slope").get<float>()}});
}

Value softmax(LayerContext& c) {
  return c.output_flat("Softmax", {flat(c.g, *c.inputs[0])}, {{"axis", std::int64_t{1}}});
}

Value dropout(LayerContext& c) {
  Value v = *c.inputs[0];
  v.base = c.info.name;
  return v;
}

Value batchnorm(LayerContext& c) {
  Value& x = *c.inputs[0];
  const bool spatial = x.shape.rank() == 3;
  std::vector<std::string> in{spatial ? nchw(c.g, x) : flat(c.g, x), c.tensor("weight"), c.tensor("bias"),
                              c.tensor("running_mean"), c.tensor("running_var")};
  const std::vector<Attribute> attrs{{"epsilon", c.settings.at("epsilon").get<float>()}};
  return spatial ? c.output_nchw("BatchNormalization", in, attrs) : c.output_flat("BatchNormalization", in, attrs);
}

Value binary(LayerContext& c, const std::string& op) {
  Value& a = *c.inputs[0];
  Value& b = *c.inputs[1];
  if (!a.nchw_name.empty() && !b.nchw_name.empty()) return c.output_nchw(op, {a.nchw_name, b.nchw_name});
  return c.output_flat(op, {flat(c.g, a), flat(c.g, b)});
}
Value add(LayerContext& c) { return binary(c, "Add"); }
Value mul(LayerContext& c) { return binary(c, "Mul"); }

Value exp_(LayerContext& c) {
  const float ln_base = c.settings.at("ln_base").get<float>();
  if (ln_base == 1.0f) return unary(c, "Exp");
  const std::string& name = c.info.name;
  Value scaled = elementwise(c.g, *c.inputs[0], name + "/scaled", "Mul", {c.g.scalar(name + "/ln_base", ln_base)});
  return elementwise(c.g, scaled, name, "Exp");
}

Value pow_(LayerContext& c) {
  return unary(c, "Pow", {c.g.scalar(c.info.name + "/exponent", c.settings.at("exponent").get<float>())});
}

Value scale(LayerContext& c) {
  const float factor = c.settings.at("factor").get<float>(), offset = c.settings.at("offset").get<float>();
  const std::string& name = c.info.name;
  if (factor == 1.0f && offset == 0.0f) return dropout(c);  // the identity
  if (offset == 0.0f) return unary(c, "Mul", {c.g.scalar(name + "/factor", factor)});
  if (factor == 1.0f) return unary(c, "Add", {c.g.scalar(name + "/offset", offset)});
  Value scaled = elementwise(c.g, *c.inputs[0], name + "/scaled", "Mul", {c.g.scalar(name + "/factor", factor)});
  return elementwise(c.g, scaled, name, "Add", {c.g.scalar(name + "/offset", offset)});
}

Value conv2d(LayerContext& c) {
  std::vector<std::string> in{nchw(c.g, *c.inputs[0]), c.tensor("weight")};
  if (c.has_tensor("bias")) in.push_back(c.tensor("bias"));
  return c.output_nchw("Conv", in, window_attributes(c));
}

Value maxpool2d(LayerContext& c) { return c.output_nchw("MaxPool", {nchw(c.g, *c.inputs[0])}, window_attributes(c)); }

Value avgpool2d(LayerContext& c) {
  std::vector<Attribute> attrs = window_attributes(c);
  attrs.push_back({"count_include_pad", std::int64_t{1}});
  return c.output_nchw("AveragePool", {nchw(c.g, *c.inputs[0])}, attrs);
}

Value global_avg_pool(LayerContext& c) {
  const std::string pooled = c.g.node("GlobalAveragePool", {nchw(c.g, *c.inputs[0])}, c.info.name + "/pooled");
  return c.output_flat("Flatten", {pooled}, {{"axis", std::int64_t{1}}});
}

Value flatten(LayerContext& c) {
  Value v{c.info.name, c.info.output_shape, flat(c.g, *c.inputs[0]), ""};
  return v;
}

}  // namespace

const std::map<std::string, Emitter>& emitters() {
  static const std::map<std::string, Emitter> table = {
      {"affine", affine},
      {"relu", relu},
      {"leaky_relu", leaky_relu},
      {"sigmoid", sigmoid},
      {"tanh", tanh_},
      {"softmax", softmax},
      {"dropout", dropout},
      {"batchnorm", batchnorm},
      {"add", add},
      {"mul", mul},
      {"exp", exp_},
      {"pow", pow_},
      {"scale", scale},
      {"conv2d", conv2d},
      {"maxpool2d", maxpool2d},
      {"avgpool2d", avgpool2d},
      {"global_avg_pool", global_avg_pool},
      {"flatten", flatten},
  };
  return table;
}

}  // namespace nettrain::onnx
