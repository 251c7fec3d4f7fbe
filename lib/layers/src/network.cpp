// Network: graph resolution, shape inference, flat-buffer layout, forward and backward.
#include "nettrain/layers/network.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "nettrain/core/errors.h"
#include "nettrain/core/parallel.h"
#include "nettrain/core/init.h"
#include "nettrain/layers/registry.h"

namespace nettrain {

namespace {
constexpr std::size_t kMaxArity = 8;

// g[0, n) = 0 in fixed ranges over the pool.
void zero_floats(float* g, Index n) {
  parallel_ranges(n, Index{1} << 16, [&](Index begin, Index end) { std::fill(g + begin, g + end, 0.0f); });
}
}  // namespace

Network Network::from_config(const ConfigNode& model) {
  model.require_object();
  Network net;
  const bool has_shape = model.has("input_shape");
  const bool has_inputs = model.has("inputs");
  if (has_shape == has_inputs) model.fail("expected exactly one of \"input_shape\" and \"inputs\"");
  auto read_shape = [](const ConfigNode& node, const std::string& key) {
    const auto dims = node.get_int_array(key);
    if (dims.empty() || dims.size() > 3)
      node.fail(key, "expected 1 to 3 dimensions ([features] or [channels, height, width]), got " +
                         std::to_string(dims.size()));
    std::vector<Index> out;
    for (std::size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] <= 0 || dims[i] > (1 << 24))
        node.child(key).fail(std::to_string(i),
                             "expected a positive size up to 16777216, got " + std::to_string(dims[i]));
      out.push_back(static_cast<Index>(dims[i]));
    }
    return Shape(out);
  };
  if (has_shape) {
    net.add_input("input", read_shape(model, "input_shape"));
  } else {
    const ConfigNode inputs = model.child("inputs");
    if (!inputs.is_array() || inputs.size() == 0) inputs.fail("expected a non-empty array of {\"name\", \"shape\"}");
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const ConfigNode in = inputs.at(i);
      in.check_keys({"name", "shape"});
      net.add_input(in.get_string("name"), read_shape(in, "shape"));
    }
  }
  const ConfigNode layers = model.child("layers");
  if (!layers.is_array() || layers.size() == 0) layers.fail("expected a non-empty array of layers");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const ConfigNode node = layers.at(i);
    node.require_object("a layer object with a \"type\"");
    const std::string type = node.get_string("type");
    const std::string name = node.get_string_or("name", "layers." + std::to_string(i));
    if (name.empty()) node.fail("name", "expected a non-empty name");
    std::vector<std::string> inputs;
    if (node.has("inputs")) {
      if (node.json().at("inputs").is_string()) inputs.push_back(node.get_string("inputs"));
      else inputs = node.get_string_array("inputs");
      if (inputs.empty()) node.fail("inputs", "expected at least one input name");
    }
    auto layer = layer_registry().create(type, node);
    net.add_layer(name, std::move(inputs), std::move(layer), node.has("init"));
    net.nodes_.back().where = node.where();
  }
  net.build();
  net.source_ = std::make_shared<const Source>(Source{model.json(), model.pointer(), model.file()});
  return net;
}

bool Network::can_replicate() const {
  if (!source_ || !built_) return false;
  return std::all_of(nodes_.begin(), nodes_.end(), [](const Node& n) { return n.layer->replicable(); });
}

Network Network::replicate() const {
  if (!can_replicate()) throw std::logic_error("Network::replicate of a network that cannot be replicated");
  Network r = from_config(ConfigNode(source_->model, source_->pointer, source_->file));
  if (r.tensors_.size() != tensors_.size() || r.params_.size() != params_.size() ||
      r.buffers_.size() != buffers_.size())
    throw std::logic_error("Network::replicate: the replica's layout differs");
  // The parameters and buffers are this network's; only the gradients are the replica's own.
  r.params_ = Vector();
  r.buffers_ = Vector();
  r.bind_tensors(const_cast<float*>(params_.data()), const_cast<float*>(buffers_.data()));
  return r;
}

void Network::add_input(const std::string& name, Shape shape) {
  if (built_) throw std::logic_error("Network::add_input after build");
  Input in;
  in.name = name;
  in.shape = std::move(shape);
  inputs_.push_back(std::move(in));
}

void Network::add_layer(const std::string& name, std::vector<std::string> inputs, std::unique_ptr<Layer> layer,
                        bool explicit_init) {
  if (built_) throw std::logic_error("Network::add_layer after build");
  Node n;
  n.name = name;
  n.input_names = std::move(inputs);
  n.layer = std::move(layer);
  n.explicit_init = explicit_init;
  nodes_.push_back(std::move(n));
}

namespace {
constexpr Index kMaxValuesPerSample = Index{1} << 24;
constexpr Index kMaxParams = Index{1} << 30;
}  // namespace

void Network::fail_node(std::size_t i, const std::string& message) const {
  const Node& n = nodes_[i];
  std::string prefix = n.where.empty() ? "" : n.where + ": ";
  throw ConfigError(prefix + "layer \"" + n.name + "\" (" + n.layer->type() + "): " + message);
}

void Network::build() {
  if (built_) return;
  if (inputs_.empty()) throw ConfigError("network has no inputs");
  if (nodes_.empty()) throw ConfigError("network has no layers");
  resolve_inputs(index_names());
  apply_default_inits();
  infer_shapes();
  lay_out_tensors();
  bind_tensors(params_.data(), buffers_.data());
  fuse_layers();
  values_.assign(value_count(), Matrix());
  scratch_.assign(nodes_.size(), {});
  for (std::size_t i = 0; i < nodes_.size(); ++i) scratch_[i].assign(nodes_[i].sources.size(), Matrix());
  received_.assign(value_count(), 0);
  built_ = true;
}

// Names: inputs then nodes, all distinct. Returns each name's value index.
std::map<std::string, std::size_t> Network::index_names() {
  std::map<std::string, std::size_t> index_of;
  Index column = 0;
  for (std::size_t k = 0; k < inputs_.size(); ++k) {
    if (!index_of.emplace(inputs_[k].name, k).second)
      throw ConfigError("duplicate input name \"" + inputs_[k].name + "\"");
    inputs_[k].column = column;
    column += inputs_[k].shape.size();
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (index_of.count(nodes_[i].name)) fail_node(i, "duplicate name \"" + nodes_[i].name + "\"");
    index_of.emplace(nodes_[i].name, inputs_.size() + i);
  }
  return index_of;
}

// Resolve inputs: earlier values only, so the config order is a topological order.
void Network::resolve_inputs(const std::map<std::string, std::size_t>& index_of) {
  std::vector<std::string> all_names;
  for (const auto& [k, v] : index_of) all_names.push_back(k);
  uses_.assign(value_count(), 0);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    const std::size_t self = inputs_.size() + i;
    n.sources.clear();
    if (n.input_names.empty()) {
      if (i == 0 && inputs_.size() > 1)
        fail_node(i, "the network has several inputs; say which this layer reads with \"inputs\"");
      n.sources.push_back(i == 0 ? 0 : self - 1);
    }
    for (const auto& in : n.input_names) {
      auto it = index_of.find(in);
      if (it == index_of.end()) {
        std::string msg = "unknown input \"" + in + "\"";
        const std::string hint = closest_match(in, all_names);
        if (!hint.empty()) msg += " (did you mean \"" + hint + "\"?)";
        fail_node(i, msg);
      }
      if (it->second >= self)
        fail_node(i, "input \"" + in + "\" is " + (it->second == self ? "this layer itself" : "a later layer") +
                         "; a layer may only read inputs and earlier layers (no cycles or forward references)");
      n.sources.push_back(it->second);
    }
    if (n.sources.size() != n.layer->arity())
      fail_node(i,
                "expected " + std::to_string(n.layer->arity()) + " input(s), got " + std::to_string(n.sources.size()));
    if (n.sources.size() > kMaxArity) fail_node(i, "too many inputs");
    for (std::size_t v : n.sources) ++uses_[v];
  }
  for (std::size_t i = 0; i + 1 < nodes_.size(); ++i)
    if (uses_[inputs_.size() + i] == 0)
      fail_node(i, "its output is never used (only the last layer may be the output)");
}

// A relu whose only reader takes it in (Layer::fuse_relu_input) is skipped: that reader is
// handed the relu's input instead, in forward and backward. So is a batchnorm
// (Layer::fuse_batchnorm_input). A flatten is skipped too where its reader can take its input.
void Network::fuse_layers() {
  const std::size_t n_in = inputs_.size();
  for (Node& n : nodes_) {
    n.reads = n.sources;
    n.skipped = false;
    n.grads_from_batchnorm = false;
    n.relu_out.reset();
  }
  if (!fuse_layers_) return;
  // Backward adds a value's gradient contributions in reverse node order, and the taken-in
  // relu's contribution comes at the pool's place: so no other node between the two may read
  // the relu's input (three or more terms would be added in another order).
  auto reads_between = [&](std::size_t value, std::size_t after, std::size_t before) {
    for (std::size_t k = after + 1; k < before; ++k)
      if (std::find(nodes_[k].sources.begin(), nodes_[k].sources.end(), value) != nodes_[k].sources.end()) return true;
    return false;
  };
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (n.sources.size() != 1 || n.sources[0] < n_in) continue;
    const std::size_t r = n.sources[0] - n_in;
    Node& relu = nodes_[r];
    if (relu.layer->type() != "relu" || uses_[n.sources[0]] != 1 || !n.layer->fuse_relu_input()) continue;
    if (reads_between(relu.sources[0], r, i)) continue;
    relu.skipped = true;
    n.reads = relu.sources;
  }
  // Then a batchnorm that only this layer reads (directly, or through the relu it took in), on
  // the same condition between the batchnorm and this layer.
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (n.reads.size() != 1 || n.reads[0] < n_in) continue;
    const std::size_t b = n.reads[0] - n_in;
    Node& bn = nodes_[b];
    if (bn.layer->type() != "batchnorm" || uses_[n.reads[0]] != 1 || reads_between(bn.sources[0], b, i)) continue;
    if (!n.layer->fuse_batchnorm_input(*bn.layer)) continue;
    bn.skipped = true;
    n.reads = bn.sources;
  }
  // A layer on the network's inputs whose output only a batchnorm reads may take its weight
  // gradients from the batchnorm's dx segments (kept or taken in, the batchnorm computes them).
  for (std::size_t b = 0; b < nodes_.size(); ++b) {
    Node& bn = nodes_[b];
    if (bn.layer->type() != "batchnorm" || bn.sources[0] < n_in || uses_[bn.sources[0]] != 1) continue;
    Node& producer = nodes_[bn.sources[0] - n_in];
    const bool on_inputs =
        std::all_of(producer.sources.begin(), producer.sources.end(), [&](std::size_t v) { return v < n_in; });
    if (on_inputs && producer.layer->fuse_batchnorm_output(*bn.layer)) producer.grads_from_batchnorm = true;
  }
  // A flatten between two layers that alone use its input and its output only copies: its
  // reader takes the flatten's input (the same rows, the same values) and writes the gradient of
  // that input straight.
  for (Node& n : nodes_)
    for (std::size_t& v : n.reads) {
      if (v < n_in || uses_[v] != 1) continue;
      Node& flatten = nodes_[v - n_in];
      if (flatten.layer->type() != "flatten" || flatten.reads[0] < n_in || uses_[flatten.reads[0]] != 1) continue;
      flatten.skipped = true;
      v = flatten.reads[0];
    }
  fuse_relu_outputs();
}

// A relu that alone reads a layer's output, and whose own output one layer alone reads, may be
// run by the layer before it (Layer::fuse_relu_output): the layer after it is then handed that
// layer's output. Last of the fusions, so a reader that took in a flatten is found by its reads.
void Network::fuse_relu_outputs() {
  const std::size_t n_in = inputs_.size();
  for (std::size_t r = 0; r < nodes_.size(); ++r) {
    Node& relu = nodes_[r];
    if (relu.skipped || relu.layer->type() != "relu" || relu.reads[0] < n_in) continue;
    const std::size_t in = relu.reads[0], out = n_in + r;
    Node& producer = nodes_[in - n_in];
    // A producer that already runs a relu is left one (a relu of a relu: the second stays).
    if (producer.skipped || producer.relu_out || uses_[in] != 1 || uses_[out] != 1) continue;
    std::size_t* slot = nullptr;
    for (Node& reader : nodes_)
      for (std::size_t& v : reader.reads)
        if (v == out && !reader.skipped) slot = &v;
    if (slot == nullptr || !producer.layer->fuse_relu_output()) continue;
    relu.skipped = true;
    producer.relu_out = r;
    *slot = in;
  }
}

// Whether backward leaves value v's gradient to a batchnorm's dx segments (fuse_layers).
bool Network::grad_by_segments(std::size_t v) const {
  return v >= inputs_.size() && nodes_[v - inputs_.size()].grads_from_batchnorm && !need_input_grad_;
}

// Default initializers follow the activation that reads a layer's output.
void Network::apply_default_inits() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].explicit_init) continue;
    for (std::size_t j = i + 1; j < nodes_.size(); ++j) {
      const auto& src = nodes_[j].sources;
      if (std::find(src.begin(), src.end(), inputs_.size() + i) != src.end()) {
        nodes_[i].layer->set_default_init(nodes_[j].layer->wants_he_init());
        break;
      }
    }
  }
}

// Shape inference.
void Network::infer_shapes() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    std::vector<Shape> shapes;
    for (std::size_t v : n.sources)
      shapes.push_back(v < inputs_.size() ? inputs_[v].shape : nodes_[v - inputs_.size()].shape);
    try {
      n.shape = n.layer->build(shapes);
    } catch (const ConfigError& e) {
      fail_node(i, e.what());
    }
    // Bounds before anything is sized from them (and before size products can overflow).
    if (n.shape.size() > kMaxValuesPerSample)
      fail_node(i, "its output has " + std::to_string(n.shape.size()) + " values per sample (" + n.shape.str() +
                       "); the limit is " + std::to_string(kMaxValuesPerSample));
  }
}

// Flat-buffer layout, in node order then tensor order.
void Network::lay_out_tensors() {
  Index n_params = 0, n_buffers = 0;
  tensors_.clear();
  inits_.clear();
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    n.param_offset = n_params;
    n.param_count = 0;
    for (const auto& spec : n.layer->parameters()) {
      tensors_.push_back({n.name + "." + spec.name, spec.shape, true, n_params, spec.size(), i});
      inits_.push_back(spec.init);
      n_params += spec.size();
      n.param_count += spec.size();
    }
    for (const auto& spec : n.layer->buffers()) {
      tensors_.push_back({n.name + "." + spec.name, spec.shape, false, n_buffers, spec.size(), i});
      inits_.push_back(spec.init);
      n_buffers += spec.size();
    }
    if (n_params + n_buffers > kMaxParams)
      fail_node(i, "the network reaches " + std::to_string(n_params + n_buffers) +
                       " parameters and buffers here; the limit is " + std::to_string(kMaxParams) +
                       " (4 GiB of floats)");
  }
  params_ = Vector::Zero(n_params);
  grads_ = Vector::Zero(n_params);
  buffers_ = Vector::Zero(n_buffers);
}

// Each layer gets pointers to its slices of the flat buffers.
void Network::bind_tensors(float* params, float* buffers) {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    std::vector<float*> p, g, b;
    for (const auto& t : tensors_) {
      if (t.node != i) continue;
      if (t.trainable) {
        p.push_back(params + t.offset);
        g.push_back(grads_.data() + t.offset);
      } else {
        b.push_back(buffers + t.offset);
      }
    }
    nodes_[i].layer->bind(p, g, b);
  }
}

void Network::init_params(std::uint64_t seed) {
  if (!built_) throw std::logic_error("Network::init_params before build");
  Rng rng(seed);
  for (std::size_t t = 0; t < tensors_.size(); ++t) {
    Vector& store = tensors_[t].trainable ? params_ : buffers_;
    initialize(inits_[t],
               std::span<float>(store.data() + tensors_[t].offset, static_cast<std::size_t>(tensors_[t].size)), rng);
  }
  rng_ = rng.split(0x64726f70);  // "drop": the stream for stochastic layers
}

Index Network::input_size() const {
  Index n = 0;
  for (const auto& in : inputs_) n += in.shape.size();
  return n;
}

Shape Network::input_shape() const {
  if (inputs_.size() == 1) return inputs_[0].shape;
  return Shape{input_size()};
}

Shape Network::output_shape() const { return nodes_.back().shape; }

std::vector<Network::InputInfo> Network::inputs() const {
  std::vector<InputInfo> out;
  for (const auto& in : inputs_) out.push_back({in.name, in.shape});
  return out;
}

std::vector<NodeInfo> Network::summary() const {
  std::vector<NodeInfo> out;
  for (const auto& n : nodes_) {
    NodeInfo info;
    info.name = n.name;
    info.type = n.layer->type();
    for (std::size_t v : n.sources)
      info.inputs.push_back(v < inputs_.size() ? inputs_[v].name : nodes_[v - inputs_.size()].name);
    info.output_shape = n.shape;
    info.params = n.param_count;
    info.settings = n.layer->describe();
    out.push_back(std::move(info));
  }
  return out;
}

void Network::resize_for_batch(Index batch) {
  if (batch == batch_) return;
  for (std::size_t v = 0; v < value_count(); ++v)
    if (v < inputs_.size() ? inputs_.size() > 1 : !nodes_[v - inputs_.size()].skipped)
      values_[v].resize(
          batch, v >= inputs_.size() && nodes_[v - inputs_.size()].layer->output_by_segments() ? 0 : value_width(v));
  batch_ = batch;
}

// Gradient storage by liveness, in backward order: dL/d(value) is first written by the value's
// last reader and last read by its producer, which then frees the slot for the next gradient of
// the same width. A chain conv → batchnorm → relu needs two slots of that width, not three.
// Input gradients are planned only when asked for (need_input_grad) and are never freed.
void Network::plan_grads() {
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  grad_slot_.assign(value_count(), kNone);
  std::vector<Index> widths;
  std::vector<bool> in_use;
  const std::size_t n_in = inputs_.size();
  for (std::size_t i = nodes_.size(); i-- > 0;) {
    if (nodes_[i].skipped) continue;
    for (const std::size_t v : nodes_[i].reads) {
      if (grad_slot_[v] != kNone || (v < n_in && !need_input_grad_) || grad_by_segments(v)) continue;
      std::size_t slot = 0;
      while (slot < widths.size() && (in_use[slot] || widths[slot] != value_width(v))) ++slot;
      if (slot == widths.size()) {
        widths.push_back(value_width(v));
        in_use.push_back(false);
      }
      in_use[slot] = true;
      grad_slot_[v] = slot;
    }
    if (const std::size_t self = n_in + i; grad_slot_[self] != kNone) in_use[grad_slot_[self]] = false;
  }
  grad_slots_.resize(widths.size());
  for (std::size_t slot = 0; slot < widths.size(); ++slot) grad_slots_[slot].resize(batch_, widths[slot]);
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    for (std::size_t s = 0; s < nodes_[i].reads.size(); ++s) {
      const std::size_t v = nodes_[i].reads[s];
      if (uses_[v] > 1) scratch_[i][s].resize(batch_, value_width(v));
    }
  grads_batch_ = batch_;
  grads_with_input_ = need_input_grad_;
}

const Matrix& Network::forward(const Matrix& x, Mode mode) {
  if (!built_) throw std::logic_error("Network::forward before build");
  if (x.cols() != input_size())
    throw DataError("input has " + std::to_string(x.cols()) + " features per sample, the model expects " +
                    std::to_string(input_size()));
  resize_for_batch(x.rows());
  packed_input_ = &x;
  if (inputs_.size() > 1)
    for (std::size_t k = 0; k < inputs_.size(); ++k)
      values_[k] = x.middleCols(inputs_[k].column, inputs_[k].shape.size());
  const Context ctx{mode, &rng_, collective_, first_row_, total_rows_, shards_};
  std::array<const Matrix*, kMaxArity> xs{};
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (n.skipped) continue;
    for (std::size_t s = 0; s < n.reads.size(); ++s) {
      const std::size_t v = n.reads[s];
      xs[s] = (v < inputs_.size() && inputs_.size() == 1) ? &x : &values_[v];
    }
    n.layer->forward(std::span<const Matrix* const>(xs.data(), n.reads.size()), values_[inputs_.size() + i], ctx);
  }
  return values_.back();
}

Index Network::infer_block_rows() const {
  Index per_sample = input_size();
  for (const Node& n : nodes_) per_sample += n.shape.size();
  const Index rows = kInferFloats / std::max<Index>(per_sample, 1) / 16 * 16;
  return std::max<Index>(rows, 16);
}

void Network::infer(const Matrix& x, Matrix& out) {
  const Index n = x.rows(), block = infer_block_rows();
  if (n <= block) {
    out = forward(x, Mode::eval);
    return;
  }
  out.resize(n, output_shape().size());
  for (Index start = 0; start < n; start += block) {
    const Index rows = std::min(block, n - start);
    block_ = x.middleRows(start, rows);
    out.middleRows(start, rows) = forward(block_, Mode::eval);
  }
}

void Network::backward(const Matrix& dy, ParamGrads param_grads, const GradsFinal& grads_final) {
  if (batch_ < 0 || packed_input_ == nullptr) throw std::logic_error("Network::backward before forward");
  if (grads_batch_ != batch_ || grads_with_input_ != need_input_grad_) plan_grads();
  start_param_grads(param_grads);
  std::fill(received_.begin(), received_.end(), 0);
  std::array<const Matrix*, kMaxArity> xs{};
  std::array<Matrix*, kMaxArity> dxs{};
  const std::size_t n_in = inputs_.size();
  for (std::size_t i = nodes_.size(); i-- > 0;) {
    Node& n = nodes_[i];
    if (n.skipped) continue;
    const std::size_t self = n_in + i;
    if (grad_by_segments(self)) {  // the batchnorm after it has handed it dy's segments
      n.layer->finish_segment_weight_grads();
      if (grads_final && n.param_count > 0) grads_final(n.param_offset);
      continue;
    }
    const Matrix& d_out = (i + 1 == nodes_.size()) ? dy : grad_of(self);
    if (n.relu_out) {  // the relu it ran: dL/d(its output) through the relu, in place
      Matrix& g = grad_of(self);
      // The relu's x is this node's output relu(y): > 0 exactly where y is.
      const std::array<const Matrix*, 1> relu_x{&values_[self]};
      const std::array<Matrix*, 1> dg{&g};
      nodes_[*n.relu_out].layer->backward(relu_x, values_[self], g, dg);
    }
    const std::size_t arity = n.reads.size();
    for (std::size_t s = 0; s < arity; ++s) {
      const std::size_t v = n.reads[s];
      xs[s] = (v < n_in && n_in == 1) ? packed_input_ : &values_[v];
      if ((v < n_in && !need_input_grad_) || grad_by_segments(v)) dxs[s] = nullptr;
      else dxs[s] = uses_[v] == 1 ? &grad_of(v) : &scratch_[i][s];
    }
    n.layer->backward(std::span<const Matrix* const>(xs.data(), arity), values_[self], d_out,
                      std::span<Matrix* const>(dxs.data(), arity));
    if (grads_final && n.param_count > 0) grads_final(n.param_offset);
    // Sum the gradients of values read by several slots; the first contribution assigns.
    for (std::size_t s = 0; s < arity; ++s) {
      const std::size_t v = n.reads[s];
      if (dxs[s] == nullptr || uses_[v] == 1) continue;
      if (received_[v]++ == 0) grad_of(v) = *dxs[s];
      else grad_of(v) += *dxs[s];
    }
  }
  if (need_input_grad_) {
    input_grad_.resize(batch_, input_size());
    for (std::size_t k = 0; k < n_in; ++k) {
      auto block = input_grad_.middleCols(inputs_[k].column, inputs_[k].shape.size());
      if (uses_[k] == 0) block.setZero();
      else block = grad_of(k);
    }
  }
}

// Tells each layer with parameters whether its next backward assigns them; with
// ParamGrads::assign, zeroes the slices of those that will not (or whose backward is not called:
// skipped nodes, gradients from a batchnorm's segments).
void Network::start_param_grads(ParamGrads param_grads) {
  const bool assign = param_grads == ParamGrads::assign;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (n.param_count == 0) continue;
    const bool called = !n.skipped && !grad_by_segments(inputs_.size() + i);
    const bool assigns = called && n.layer->assign_grads(assign);
    if (assign && !assigns) zero_floats(grads_.data() + n.param_offset, n.param_count);
  }
}

void Network::zero_grads() { zero_floats(grads_.data(), grads_.size()); }

std::string Network::first_nonfinite_tensor(bool in_grads) const {
  for (const auto& t : tensors_) {
    if (!t.trainable && in_grads) continue;
    const Vector& store = !t.trainable ? buffers_ : (in_grads ? grads_ : params_);
    if (!store.segment(t.offset, t.size).allFinite()) return t.name;
  }
  return "";
}

}  // namespace nettrain

namespace nettrain {

std::string Network::first_nonfinite_output() const {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (!nodes_[i].skipped && !values_[inputs_.size() + i].allFinite()) return nodes_[i].name;
  return "";
}

}  // namespace nettrain
