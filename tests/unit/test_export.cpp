// ONNX export: the protobuf wire writer on the encoding examples of the protobuf documentation,
// every registered layer in the exporter's table, the errors (a layer without a mapping, options
// out of range), and the resolved settings the layers report. The files themselves are checked by
// the onnx package and run by ONNX Runtime in tests/cli/export.sh.
#include <doctest/doctest.h>

#include <algorithm>

#include "nettrain/core/errors.h"
#include "nettrain/export/onnx.h"
#include "nettrain/layers/network.h"
#include "nettrain/layers/registry.h"
#include "protobuf.h"  // lib/export/src: the writer is private to the export module

using namespace nettrain;
using json = nlohmann::json;

namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

Network build(const json& model) { return Network::from_config(ConfigNode(model, "/model", "net.json")); }

// A layer type the exporter has never heard of.
class Mystery : public Layer {
 public:
  std::string type() const override { return "mystery"; }
  Shape build(const std::vector<Shape>& inputs) override { return inputs[0]; }
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context&) override { y = *x[0]; }
  void backward(std::span<const Matrix* const>, const Matrix&, const Matrix& dy, std::span<Matrix* const> dx) override {
    if (dx[0] != nullptr) *dx[0] = dy;
  }
};

std::string export_error(const OnnxSource& src, const OnnxOptions& o) {
  try {
    export_onnx(src, o);
  } catch (const Error& e) {
    return std::string(e.exit_code() == 4 ? "4: " : e.exit_code() == 2 ? "2: " : "?: ") + e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("export: protobuf wire encoding of the documentation's examples") {
  proto::ProtoWriter w;
  w.varint(1, 150);  // "08 96 01" is the protobuf guide's first example
  CHECK(hex(w.data()) == "08 96 01");
  proto::ProtoWriter s;
  s.bytes(2, "testing");  // the guide's string example
  CHECK(hex(s.data()) == "12 07 74 65 73 74 69 6e 67");
  proto::ProtoWriter n;
  n.int64(1, -2);  // negative int64: ten bytes of two's complement
  CHECK(hex(n.data()) == "08 fe ff ff ff ff ff ff ff ff 01");
  proto::ProtoWriter f;
  f.float32(2, 1.0f);  // wire type 5, little-endian IEEE 754
  CHECK(hex(f.data()) == "15 00 00 80 3f");
  proto::ProtoWriter outer;
  outer.message(3, w);  // an embedded message: length prefix, then its bytes
  CHECK(hex(outer.data()) == "1a 03 08 96 01");
}

TEST_CASE("export: every registered layer type has an ONNX mapping") {
  const std::vector<std::string> mapped = onnx_layer_types();
  for (const auto& type : layer_registry().names()) {
    INFO(type);
    CHECK(std::find(mapped.begin(), mapped.end(), type) != mapped.end());
  }
}

TEST_CASE("export: a layer without a mapping is a model-file error naming it; bad options are usage errors") {
  Network net;
  net.add_input("x", Shape{3});
  net.add_layer("odd", {}, std::make_unique<Mystery>());
  net.build();
  OnnxSource src;
  src.net = &net;
  src.loss_type = "softmax_cross_entropy";
  src.where = "m.safetensors";
  const std::string e = export_error(src, {});
  CHECK(e.rfind("4: m.safetensors: layer \"odd\" (mystery): no ONNX mapping", 0) == 0);
  CHECK(e.find("conv2d") != std::string::npos);  // lists what is mapped

  Network ok = build(json::parse(R"({"input_shape": [3], "layers": [{"type": "affine", "units": 2}]})"));
  src.net = &ok;
  CHECK(export_error(src, {}) == "(no error)");
  CHECK(export_error(src, {12, false, 0}).rfind("2: --opset: expected 13 to 21, got 12", 0) == 0);
  CHECK(export_error(src, {22, false, 0}).rfind("2: --opset", 0) == 0);
  src.loss_type = "mse";
  CHECK(export_error(src, {13, true, 0}).find("2: --probabilities: m.safetensors is a regression model") == 0);
  CHECK(export_error(src, {13, false, 0}) == "(no error)");
}

TEST_CASE("export: the exported model names its input, outputs and symbolic or fixed batch") {
  Network net = build(json::parse(R"({"input_shape": [2, 4, 4], "layers": [
      {"type": "conv2d", "filters": 3, "kernel": 3}, {"type": "flatten"}, {"type": "affine", "units": 5}]})"));
  OnnxSource src;
  src.net = &net;
  src.loss_type = "softmax_cross_entropy";
  OnnxExport x = export_onnx(src, {13, true, 0});
  REQUIRE(x.inputs.size() == 1);
  CHECK(x.inputs[0].name == "input");
  CHECK(x.inputs[0].dims == std::vector<std::int64_t>{-1, 32});
  REQUIRE(x.outputs.size() == 2);
  CHECK(x.outputs[0].name == "logits");
  CHECK(x.outputs[1].name == "probabilities");
  CHECK(x.outputs[1].dims == std::vector<std::int64_t>{-1, 5});
  CHECK(x.ir_version == 7);
  // Reshape to NCHW, Conv, Flatten, Gemm, Softmax
  CHECK(x.nodes == 5);
  x = export_onnx(src, {17, false, 8});
  CHECK(x.outputs.size() == 1);
  CHECK(x.inputs[0].dims == std::vector<std::int64_t>{8, 32});
  CHECK(x.ir_version == 8);
}

TEST_CASE("layer settings: resolved windows, slopes and epsilons for exporters") {
  Network net = build(json::parse(R"({"input_shape": [1, 7, 7], "layers": [
      {"type": "conv2d", "filters": 2, "kernel": 4, "padding": "same", "bias": false},
      {"type": "maxpool2d"}, {"type": "avgpool2d", "kernel": [2, 1], "stride": 1, "padding": [1, 0]},
      {"type": "leaky_relu", "slope": 0.25}, {"type": "batchnorm", "epsilon": 0.001}, {"type": "relu"}]})"));
  // "same" with kernel 4 on 7: total padding 3, one before (TensorFlow's split)
  CHECK(net.layer(0).settings() == json::parse(R"({"kernel": [4, 4], "stride": [1, 1], "pad_before": [1, 1],
                                                    "filters": 2, "bias": false})"));
  CHECK(net.layer(1).settings() == json::parse(R"({"kernel": [2, 2], "stride": [2, 2], "pad_before": [0, 0]})"));
  CHECK(net.layer(2).settings() == json::parse(R"({"kernel": [2, 1], "stride": [1, 1], "pad_before": [1, 0]})"));
  CHECK(net.layer(3).settings().at("slope").get<float>() == 0.25f);
  CHECK(net.layer(4).settings().at("epsilon").get<double>() == 0.001);
  CHECK(net.layer(5).settings() == json::object());
}
