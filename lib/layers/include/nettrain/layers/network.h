// The network: an ordered graph of nodes over named inputs, and the owner of all parameters.
//
// Every learnable tensor lives in one contiguous `params` vector and its gradient at the same
// offset in one `grads` vector; non-learnable state (batchnorm running statistics) lives in one
// `buffers` vector. Layers hold pointers into them. So a step zeroes the gradients once, an
// optimizer runs one loop over one vector, and a save writes each vector once.
//
// Nodes come in the order of the config; each names its inputs (earlier nodes or network
// inputs), default the node before it. The last node is the output. Backward runs the nodes in
// reverse and sums the gradients of a node that feeds several others.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nettrain/core/config_node.h"
#include "nettrain/layers/layer.h"
#include "nettrain/core/rng.h"
#include "nettrain/core/tensor.h"

namespace nettrain {

// How Network::backward writes the parameter gradients: added to what grads() holds, or assigned.
enum class ParamGrads { add, assign };

// One saved tensor: where it sits in params() (trainable) or buffers() (not).
struct TensorInfo {
  std::string name;  // "<layer name>.<suffix>", e.g. "fc1.weight"
  std::vector<Index> shape;
  bool trainable = true;
  Index offset = 0;
  Index size = 0;
  std::size_t node = 0;  // index of the owning node
};

// One row of the layer table.
struct NodeInfo {
  std::string name;
  std::string type;
  std::vector<std::string> inputs;
  Shape output_shape;
  Index params = 0;
  std::string settings;
};

class Network {
 public:
  Network() = default;
  Network(Network&&) = default;
  Network& operator=(Network&&) = default;
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Builds from a "model" object: {"input_shape": [...]} or {"inputs": [{"name", "shape"}...]},
  // "layers": [...]. Other keys of the model object are the caller's ("loss"). Calls build().
  static Network from_config(const ConfigNode& model);

  // Programmatic construction; call build() after the last add_layer.
  void add_input(const std::string& name, Shape shape);
  // `inputs` empty means "the node (or input) before this one".
  void add_layer(const std::string& name, std::vector<std::string> inputs, std::unique_ptr<Layer> layer,
                 bool explicit_init = true);
  // Before build: whether build() lets a layer take in the relu or batchnorm before it
  // (Layer::fuse_relu_input, fuse_batchnorm_input), a layer hand its output to the batchnorm
  // after it in segments (fuse_batchnorm_output), a flatten's reader take the flatten's input,
  // and a layer run the relu after it (fuse_relu_output). On by default; the same bits either
  // way (tests compare the two).
  void set_fuse_layers(bool on) { fuse_layers_ = on; }
  // Resolves inputs, infers shapes, lays out and binds the flat buffers. Throws ConfigError that
  // names the layer for an unknown input, a forward reference or cycle, a duplicate name, an
  // unused output, or shapes that do not fit.
  void build();

  // Fills every parameter and buffer from its InitSpec, drawing from one Rng seeded by `seed`.
  void init_params(std::uint64_t seed);

  // x: (batch, input_size()); with several inputs their features are consecutive column blocks
  // in declaration order. Returns the output (batch, output_shape().size()).
  const Matrix& forward(const Matrix& x, Mode mode);
  // The eval-mode forward of any number of samples into `out` (rows, output size), run in blocks
  // of rows so that the activations held at once stay near kInferFloats floats however large x
  // is (evaluation of 1000-image batches of a CNN would otherwise hold every layer's output of
  // all 1000). Every layer works sample by sample in eval mode, so `out` equals
  // forward(x, Mode::eval) up to rounding: OpenBLAS picks its kernel by a product's size, so a
  // product of fewer rows can round differently. The blocks depend on the shapes only, so `out`
  // is the same bits for any thread count.
  void infer(const Matrix& x, Matrix& out);
  static constexpr Index kInferFloats = Index{1} << 22;  // 16 MB of activations
  // The rows infer() runs at once: kInferFloats over the floats of one sample's activations,
  // a multiple of 16, at least 16.
  Index infer_block_rows() const;

  // Data-parallel training: the next forward's x is rows [first, first + x.rows()) of a global
  // batch of `total` rows, and batch reductions go through `c` (see Context). Default: one process.
  void set_batch_slice(Collective* c, Index first, Index total, std::span<const Index> shards = {}) {
    collective_ = c;
    first_row_ = first;
    total_rows_ = total;
    shards_ = shards;
  }
  // Told during backward each time the gradients of params()[first, param_count()) are final:
  // after the backward of each layer with parameters whose backward runs (or that finishes its
  // weight gradients from a batchnorm's segments), with that layer's first parameter. Layers run
  // last to first and a layer's parameters lie after those of the layers before it, so `first`
  // only decreases. A layer the fusions skip (a batchnorm taken in by its reader) is not told of: its
  // gradients are written by its reader, a later layer. This holds because no layer's backward
  // writes or reads the parameters of a layer after it (Layer's fusions keep to that).
  using GradsFinal = std::function<void(Index first)>;
  // dy: (batch, out), dL/d(output). With ParamGrads::add the parameter gradients are ADDED into
  // grads() (zero them first); with ParamGrads::assign grads() is overwritten with this batch's
  // gradients, whatever it held (Layer::assign_grads). grads_final, when given, is told as above;
  // parameters it changes must be those whose gradients are final (no later backward reads them).
  void backward(const Matrix& dy, ParamGrads param_grads = ParamGrads::add, const GradsFinal& grads_final = {});

  // When on, backward also computes dL/dx for the network inputs (gradcheck, tests).
  void set_need_input_grad(bool on) { need_input_grad_ = on; }
  // (batch, input_size()), valid after backward with need_input_grad on.
  const Matrix& input_grad() const { return input_grad_; }
  // Floats held for the values (layer outputs) of the last forward; a layer skipped by the
  // fusions (fuse_layers) holds none.
  Index value_floats() const {
    Index n = 0;
    for (const Matrix& m : values_) n += m.size();
    return n;
  }
  // Floats held for the gradients of values (dL/d(value)) since the last backward: values whose
  // gradients are never live at once share storage.
  Index value_grad_floats() const {
    Index n = 0;
    for (const Matrix& m : grad_slots_) n += m.size();
    return n;
  }

  void zero_grads();  // in fixed ranges over the pool
  Vector& params() { return params_; }
  const Vector& params() const { return params_; }
  Vector& grads() { return grads_; }
  const Vector& grads() const { return grads_; }
  Vector& buffers() { return buffers_; }
  const Vector& buffers() const { return buffers_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

  struct InputInfo {
    std::string name;
    Shape shape;
  };
  // The network inputs in declaration order (their features are consecutive column blocks).
  std::vector<InputInfo> inputs() const;

  Index param_count() const { return params_.size(); }
  Index input_size() const;
  Shape input_shape() const;  // the single input's shape, or [input_size()] with several
  Shape output_shape() const;
  std::vector<NodeInfo> summary() const;
  // The layer of node i (in summary() order), for exporters that ask it for its settings().
  const Layer& layer(std::size_t i) const { return *nodes_[i].layer; }

  // The stream that stochastic layers (dropout) draw from; saved in checkpoints.
  Rng& rng() { return rng_; }

  // Replicas for sample-shard training (Trainer, training.batch_shards): copies of this network,
  // built again from its model config, whose layers read this network's parameters and buffers
  // and write gradients of their own. Several replicas can run forward and backward at once on
  // different shards of a batch while nobody writes the parameters. can_replicate(): built by
  // from_config and every layer replicable() (Layer).
  bool can_replicate() const;
  Network replicate() const;

  // The first tensor (in network order) holding a NaN or Inf in params (or, with grads=true, in
  // grads), as its name; "" when all are finite.
  std::string first_nonfinite_tensor(bool in_grads) const;
  // The first node whose output of the last forward holds a NaN or Inf; "" when none. A layer
  // that runs the relu after it (fuse_relu_output) holds relu(y): a −inf in y is not seen there.
  std::string first_nonfinite_output() const;

 private:
  struct Input {
    std::string name;
    Shape shape;
    Index column = 0;  // first column in the packed input matrix
  };
  struct Node {
    std::string name;
    std::vector<std::string> input_names;
    std::unique_ptr<Layer> layer;
    bool explicit_init = true;
    // Resolved at build: the value index of each input slot.
    std::vector<std::size_t> sources;
    // The values forward and backward hand the layer: sources, but a relu or batchnorm taken in
    // by this layer, a flatten skipped before it, or a relu run by the layer before that relu
    // (fuse_layers), is replaced by its own input.
    std::vector<std::size_t> reads;
    // Taken in by (or skipped for) the layer that reads it, or run by the layer it reads: no
    // passes of its own.
    bool skipped = false;
    // Its weight gradients come from the batchnorm reading its output, segment by segment
    // (Layer::fuse_batchnorm_output), when no input gradient is asked for.
    bool grads_from_batchnorm = false;
    // The relu after it that it runs itself (Layer::fuse_relu_output), as a node index; that
    // relu's gradient is then taken in place on this node's output gradient.
    std::optional<std::size_t> relu_out;
    Shape shape;
    Index param_offset = 0;  // its parameters' slice of params() and grads()
    Index param_count = 0;
    std::string where;  // "file: /model/layers/3" for messages, or "" when built in code
  };

  // Values are numbered inputs first, then nodes: value v < inputs_.size() is an input.
  std::size_t value_count() const { return inputs_.size() + nodes_.size(); }
  Index value_width(std::size_t v) const {
    return v < inputs_.size() ? inputs_[v].shape.size() : nodes_[v - inputs_.size()].shape.size();
  }
  [[noreturn]] void fail_node(std::size_t i, const std::string& message) const;
  void resize_for_batch(Index batch);
  void plan_grads();
  Matrix& grad_of(std::size_t v) { return grad_slots_[grad_slot_[v]]; }
  bool grad_by_segments(std::size_t v) const;
  void start_param_grads(ParamGrads param_grads);
  // The steps of build(), in order.
  std::map<std::string, std::size_t> index_names();
  void resolve_inputs(const std::map<std::string, std::size_t>& index_of);
  void apply_default_inits();
  void infer_shapes();
  void lay_out_tensors();
  void bind_tensors(float* params, float* buffers);
  void fuse_layers();
  void fuse_relu_outputs();

  std::vector<Input> inputs_;
  std::vector<Node> nodes_;
  bool built_ = false;
  bool need_input_grad_ = false;
  bool fuse_layers_ = true;

  Vector params_, grads_, buffers_;
  std::vector<TensorInfo> tensors_;
  std::vector<InitSpec> inits_;    // parallel to tensors_
  std::vector<std::size_t> uses_;  // per value: how many input slots of nodes read it
  Rng rng_{0};
  // The model config this network was built from (from_config), for replicate().
  struct Source {
    nlohmann::json model;
    std::string pointer, file;
  };
  std::shared_ptr<const Source> source_;
  Collective* collective_ = nullptr;
  Index first_row_ = 0, total_rows_ = 0;
  std::span<const Index> shards_;

  // Per-batch buffers, resized only when the batch size changes.
  Index batch_ = -1;
  const Matrix* packed_input_ = nullptr;  // the x of the last forward
  std::vector<Matrix> values_;            // per value: inputs (split copies, when several) then outputs
  // dL/d(value) lives in grad_slots_[grad_slot_[value]]: values of equal width whose gradients
  // are never live at once share a slot (plan_grads). Sized at the first backward of a batch size.
  std::vector<Matrix> grad_slots_;
  std::vector<std::size_t> grad_slot_;
  Index grads_batch_ = -1;
  bool grads_with_input_ = false;             // need_input_grad_ when the slots were planned
  std::vector<std::vector<Matrix>> scratch_;  // per node and input slot, for summed gradients
  std::vector<std::size_t> received_;         // per value: gradient contributions seen this backward
  Matrix input_grad_;
  Matrix block_;  // infer(): the rows of x of the current block
};

// The BLAS under the products, as it names itself: "OpenBLAS 0.3.21 ... Cooperlake" (the kernels
// it picked for this CPU, or the ones OPENBLAS_CORETYPE asked for). For --version and summary.json.
std::string blas_description();

}  // namespace nettrain
