// nettrain export MODEL -o FILE.onnx [--opset N] [--probabilities] [--batch N]: the model as an
// ONNX graph (nettrain/export/onnx.h), written atomically.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "commands.h"
#include "nettrain/export/onnx.h"
#include "nettrain/core/files.h"

namespace nettrain::app {

namespace {

std::string dims_str(const std::vector<std::int64_t>& dims) {
  std::vector<std::string> parts;
  for (std::int64_t d : dims) parts.push_back(d < 0 ? "batch" : std::to_string(d));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

nlohmann::json values_json(const std::vector<OnnxValue>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : values) {
    nlohmann::json dims = nlohmann::json::array();
    for (std::int64_t d : v.dims) dims.push_back(d < 0 ? nlohmann::json("batch") : nlohmann::json(d));
    out.push_back({{"name", v.name}, {"shape", dims}});
  }
  return out;
}

}  // namespace

int cmd_export(const GlobalOptions& g, const ExportArgs& a) {
  const LoadedModel m = load_model(a.model);
  const OnnxOptions options{a.opset, a.probabilities, a.batch};
  const OnnxExport onnx = export_onnx(onnx_source(m), options);
  write_file_atomic(a.output, onnx.bytes);
  if (g.json) {
    const nlohmann::json j = {{"output", a.output},
                              {"bytes", onnx.bytes.size()},
                              {"opset", a.opset},
                              {"ir_version", onnx.ir_version},
                              {"nodes", onnx.nodes},
                              {"inputs", values_json(onnx.inputs)},
                              {"outputs", values_json(onnx.outputs)}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::vector<std::string> outs;
  for (const auto& v : onnx.outputs) outs.push_back(fmt::format("\"{}\" {}", v.name, dims_str(v.dims)));
  spdlog::info("wrote {} (opset {}, {} nodes): input \"{}\" {} -> {}", a.output, a.opset, onnx.nodes,
               onnx.inputs.at(0).name, dims_str(onnx.inputs.at(0).dims), fmt::join(outs, ", "));
  return 0;
}

}  // namespace nettrain::app
