// The part of ONNX's ModelProto that nettrain writes, as plain structs, and their encoding with
// the wire writer of protobuf.h. Field numbers are those of onnx.proto (ONNX's schema); only
// the fields listed here are ever written.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace nettrain::onnx {

// TensorProto.DataType values.
enum class DataType : std::int32_t { float32 = 1, int64 = 7 };

struct Attribute {
  std::string name;
  std::variant<float, std::int64_t, std::vector<std::int64_t>> value;  // FLOAT, INT, INTS
};

struct Node {
  std::string op_type;
  std::string name;
  std::vector<std::string> inputs, outputs;
  std::vector<Attribute> attributes;
};

// An initializer: dims and the little-endian bytes of its elements.
struct Tensor {
  std::string name;
  DataType type = DataType::float32;
  std::vector<std::int64_t> dims;
  std::string raw;
};

// A graph input or output: a float32 tensor whose dims are sizes or, when the size is < 0,
// the symbolic dim `batch`.
struct ValueInfo {
  std::string name;
  std::vector<std::int64_t> dims;
  std::string doc;
};

struct Graph {
  std::string name;
  std::string doc;
  std::vector<Node> nodes;
  std::vector<Tensor> initializers;
  std::vector<ValueInfo> inputs, outputs;
};

struct Model {
  std::int64_t ir_version = 7;
  std::int64_t opset = 13;  // of the default domain ai.onnx
  std::string producer_name, producer_version;
  std::string doc;
  Graph graph;
  std::vector<std::pair<std::string, std::string>> metadata;  // metadata_props
};

// The name of the symbolic batch dimension in ValueInfo.
inline constexpr const char* kBatchDim = "batch";

// The ModelProto bytes of `m` (what a .onnx file holds).
std::string serialize(const Model& m);

}  // namespace nettrain::onnx
