// model.init_from and model.freeze; see transfer.h.
#include "nettrain/run/transfer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "nettrain/core/errors.h"
#include "nettrain/io/safetensors.h"
#include "nettrain/run/model_file.h"

namespace nettrain {

InitFromReport init_from(Network& net, const std::string& path) {
  InitFromReport r;
  r.path = resolve_model_path(path);
  const SafetensorsFile file = SafetensorsFile::open(r.path);
  for (const TensorInfo& t : net.tensors()) {
    const SafetensorInfo* info = file.find(t.name);
    if (info == nullptr) {
      r.kept.push_back(t.name);
      continue;
    }
    Vector& storage = t.trainable ? net.params() : net.buffers();
    // read_f32 checks the dtype and the shape and names the tensor when they differ.
    file.read_f32(t.name, t.shape, std::span<float>(storage.data() + t.offset, static_cast<std::size_t>(t.size)));
    r.loaded.push_back(t.name);
  }
  if (r.loaded.empty())
    throw ModelFileError(fmt::format("{}: model.init_from: none of its tensors has a name of this network's ({})",
                                     r.path, fmt::join(r.kept, ", ")));
  return r;
}

std::vector<FrozenSlice> frozen_slices(const Network& net, const ConfigNode& model) {
  std::vector<FrozenSlice> out;
  if (!model.has("freeze")) return out;
  const ConfigNode freeze = model.child("freeze");
  const std::vector<std::string> names = model.get_string_array("freeze");
  const std::vector<NodeInfo> nodes = net.summary();
  std::vector<std::string> layers;
  for (const NodeInfo& n : nodes) layers.push_back(n.name);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    const std::string key = std::to_string(i);
    if (std::find(layers.begin(), layers.end(), name) == layers.end()) {
      const std::string hint = closest_match(name, layers);
      freeze.fail(
          key, fmt::format("no layer is named \"{}\"{}; layers: {}", name,
                           hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint), fmt::join(layers, ", ")));
    }
    const std::size_t before = out.size();
    for (const TensorInfo& t : net.tensors())
      if (nodes[t.node].name == name) out.push_back({t.trainable, t.offset, t.size});
    if (out.size() == before) freeze.fail(key, fmt::format("layer \"{}\" has no parameters to freeze", name));
  }
  return out;
}

}  // namespace nettrain
