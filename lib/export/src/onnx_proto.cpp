// ONNX messages to protobuf bytes; see onnx_proto.h. Field numbers from onnx.proto.
#include "onnx_proto.h"

#include "protobuf.h"

namespace nettrain::onnx {

namespace {

using proto::ProtoWriter;

// AttributeProto: name 1, f 2, i 3, ints 8, type 20 (FLOAT 1, INT 2, INTS 7).
ProtoWriter attribute(const Attribute& a) {
  ProtoWriter w;
  w.bytes(1, a.name);
  if (const auto* f = std::get_if<float>(&a.value)) {
    w.float32(2, *f);
    w.int64(20, 1);
  } else if (const auto* i = std::get_if<std::int64_t>(&a.value)) {
    w.int64(3, *i);
    w.int64(20, 2);
  } else {
    for (std::int64_t v : std::get<std::vector<std::int64_t>>(a.value)) w.int64(8, v);
    w.int64(20, 7);
  }
  return w;
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
ProtoWriter node(const Node& n) {
  ProtoWriter w;
  for (const auto& s : n.inputs) w.bytes(1, s);
  for (const auto& s : n.outputs) w.bytes(2, s);
  w.bytes(3, n.name);
  w.bytes(4, n.op_type);
  for (const auto& a : n.attributes) w.message(5, attribute(a));
  return w;
}

// TensorProto: dims 1, data_type 2, name 8, raw_data 9.
ProtoWriter tensor(const Tensor& t) {
  ProtoWriter w;
  for (std::int64_t d : t.dims) w.int64(1, d);
  w.int64(2, static_cast<std::int64_t>(t.type));
  w.bytes(8, t.name);
  w.bytes(9, t.raw);
  return w;
}

// ValueInfoProto: name 1, type 2, doc_string 3. TypeProto: tensor_type 1. TypeProto.Tensor:
// elem_type 1, shape 2. TensorShapeProto: dim 1. Dimension: dim_value 1, dim_param 2.
ProtoWriter value_info(const ValueInfo& v) {
  ProtoWriter shape;
  for (std::int64_t d : v.dims) {
    ProtoWriter dim;
    if (d < 0) dim.bytes(2, kBatchDim);
    else dim.int64(1, d);
    shape.message(1, dim);
  }
  ProtoWriter tensor_type;
  tensor_type.int64(1, static_cast<std::int64_t>(DataType::float32));
  tensor_type.message(2, shape);
  ProtoWriter type;
  type.message(1, tensor_type);
  ProtoWriter w;
  w.bytes(1, v.name);
  w.message(2, type);
  if (!v.doc.empty()) w.bytes(3, v.doc);
  return w;
}

// GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11, output 12.
ProtoWriter graph(const Graph& g) {
  ProtoWriter w;
  for (const auto& n : g.nodes) w.message(1, node(n));
  w.bytes(2, g.name);
  for (const auto& t : g.initializers) w.message(5, tensor(t));
  if (!g.doc.empty()) w.bytes(10, g.doc);
  for (const auto& v : g.inputs) w.message(11, value_info(v));
  for (const auto& v : g.outputs) w.message(12, value_info(v));
  return w;
}

}  // namespace

// ModelProto: ir_version 1, producer_name 2, producer_version 3, doc_string 6, graph 7,
// opset_import 8 (OperatorSetIdProto: domain 1, version 2), metadata_props 14
// (StringStringEntryProto: key 1, value 2).
std::string serialize(const Model& m) {
  ProtoWriter w;
  w.int64(1, m.ir_version);
  w.bytes(2, m.producer_name);
  w.bytes(3, m.producer_version);
  if (!m.doc.empty()) w.bytes(6, m.doc);
  w.message(7, graph(m.graph));
  ProtoWriter opset;
  opset.bytes(1, "");
  opset.int64(2, m.opset);
  w.message(8, opset);
  for (const auto& [k, v] : m.metadata) {
    ProtoWriter entry;
    entry.bytes(1, k);
    entry.bytes(2, v);
    w.message(14, entry);
  }
  return w.data();
}

}  // namespace nettrain::onnx
