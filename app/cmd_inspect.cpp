// nettrain inspect MODEL: what a saved model file holds.
#include <nlohmann/json.hpp>

#include <cstdio>

#include "commands.h"
#include "nettrain/core/errors.h"
#include "nettrain/run/model_file.h"
#include "table.h"

namespace nettrain::app {

int cmd_inspect(const GlobalOptions& g, const std::string& model) {
  const LoadedModel m = load_model(model);
  const SafetensorsFile& f = m.file;
  nlohmann::json tensors = nlohmann::json::array();
  Table t({"tensor", "dtype", "shape", "bytes"});
  long long total = 0;
  for (const auto& info : f.tensors()) {
    std::vector<long long> shape(info.shape.begin(), info.shape.end());
    tensors.push_back(
        {{"name", info.name}, {"dtype", info.dtype}, {"shape", info.shape}, {"data_offsets", {info.begin, info.end}}});
    t.add({info.name, info.dtype, fmt_shape(shape), fmt_count(static_cast<long long>(info.end - info.begin))});
    total += static_cast<long long>(info.end - info.begin);
  }
  // The stored table is informational (the network is rebuilt from the config), but it is
  // untrusted input all the same.
  nlohmann::json arch = nlohmann::json::parse(f.require_metadata("architecture"), nullptr, false);
  if (arch.is_discarded()) throw nettrain::ModelFileError(f.path() + ": __metadata__/architecture is not valid JSON");
  Table a({"layer", "type", "inputs", "output", "params"});
  for (const auto& n : m.net.summary()) {
    std::string inputs;
    for (const auto& in : n.inputs) inputs += (inputs.empty() ? "" : ",") + in;
    std::vector<long long> dims(n.output_shape.dims.begin(), n.output_shape.dims.end());
    a.add({n.name, n.type, inputs, fmt_shape(dims), fmt_count(n.params)});
  }
  const std::string format = f.require_metadata("format");
  const auto version_it = f.metadata().find("nettrain_version");
  const std::string version = version_it == f.metadata().end() ? "?" : version_it->second;

  if (g.json) {
    nlohmann::json out = {{"path", f.path()},
                          {"format", format},
                          {"nettrain_version", version},
                          {"header_bytes", f.header_length()},
                          {"tensors", tensors},
                          {"parameters", m.net.param_count()},
                          {"architecture", arch},
                          {"input_shape", m.net.input_shape().dims},
                          {"output_shape", m.net.output_shape().dims},
                          {"loss", m.loss->type()},
                          {"class_names", m.meta.class_names},
                          {"preprocess", m.meta.preprocess},
                          {"metrics", m.meta.metrics},
                          {"config", m.config.json}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%s\n  format %s, written by nettrain %s, header %s bytes\n\n", f.path().c_str(), format.c_str(),
              version.c_str(), fmt_count(static_cast<long long>(f.header_length())).c_str());
  std::printf("architecture (input %s, loss %s)\n%s  %s parameters\n\n", m.net.input_shape().str().c_str(),
              m.loss->type().c_str(), a.str().c_str(), fmt_count(m.net.param_count()).c_str());
  std::printf("tensors\n%s  %s bytes of data\n\n", t.str().c_str(), fmt_count(total).c_str());
  std::printf("class names: %s\n", m.meta.class_names.empty() ? "(integer labels)" : m.meta.class_names.dump().c_str());
  std::printf("preprocess:  %s\n", m.meta.preprocess.dump().c_str());
  std::printf("metrics:     %s\n", m.meta.metrics.dump().c_str());
  return 0;
}

}  // namespace nettrain::app
