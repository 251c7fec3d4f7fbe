// The Layer contract. A network is a graph of nodes; each node holds one Layer.
//
// Lifecycle, all driven by Network:
//   1. construct from the layer's config object (the registry's factory),
//   2. build(input shapes) -> output shape; the layer checks its inputs here, once,
//   3. parameters()/buffers() describe the flat-buffer slices it wants; the network allocates one
//      contiguous params buffer, one grads buffer and one buffers buffer, then calls bind(),
//   4. forward/backward per batch.
//
// forward(x, y, ctx)
//   requires: x.size() == number of inputs; x[i] is (batch, input_shape[i].size()).
//   ensures:  y is (batch, output_shape.size()); y is resized only when the batch size changes.
//             The layer may cache what backward needs (a mask, normalised inputs); buffers it
//             keeps are sized once per batch size, never allocated per call otherwise.
// backward(x, y, dy, dx)
//   requires: the last forward was with the same x and produced y; dy is (batch, out).
//   ensures:  for each i with dx[i] != nullptr, *dx[i] is ASSIGNED dL/dx_i (batch, in_i);
//             dx[i] == nullptr means nobody needs it (the network input) and it is not computed.
//             Parameter gradients are ADDED into the bound grads (the caller zeroes them before
//             a step's backward), unless the layer said yes to assign_grads(true) before this
//             backward: then they are ASSIGNED.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "nettrain/core/collective.h"
#include "nettrain/core/init.h"
#include "nettrain/core/rng.h"
#include "nettrain/core/tensor.h"

namespace nettrain {

enum class Mode { train, eval };

struct Context {
  Mode mode = Mode::train;
  Rng* rng = nullptr;  // the network's stream for stochastic layers (dropout); saved in checkpoints
  // Data-parallel training: this process's x holds rows [first_row, first_row + x.rows()) of a
  // global batch of total_rows rows (0: x is the whole batch). Layers that reduce over the batch
  // (batchnorm's statistics) sum across processes through `collective`; layers that draw per
  // element (dropout) draw for the whole global batch and keep their rows, so every process
  // uses its rows of the one mask a single process would draw.
  Collective* collective = nullptr;
  Index first_row = 0;
  Index total_rows = 0;
  // Sample shards (training.batch_shards): boundaries of this process's shards in its rows,
  // shards.front() == 0, shards.back() == x.rows(). Layers that sum over the batch (weight and
  // bias gradients, batchnorm) sum each shard, then add the shards with tree_sum_rows, so the
  // result does not depend on how the shards are spread over processes. Empty: one sum.
  std::span<const Index> shards{};
  Index global_rows(Index local_rows) const { return total_rows > 0 ? total_rows : local_rows; }
};

// A slice of the network's flat storage that a layer asks for.
struct TensorSpec {
  std::string name;          // suffix after "<layer name>.": "weight", "bias", "running_mean"
  std::vector<Index> shape;  // the shape it is saved with, e.g. {in, out} for an affine weight
  InitSpec init;
  Index size() const {
    Index n = 1;
    for (Index d : shape) n *= d;
    return n;
  }
};

class Layer {
 public:
  virtual ~Layer() = default;

  // The registry name, e.g. "affine".
  virtual std::string type() const = 0;
  // Number of inputs this layer takes (1 for most, 2 for add/mul).
  virtual std::size_t arity() const { return 1; }

  // Checks the input shapes and returns the output shape. Throws ConfigError (the message need
  // not name the layer: the network prefixes it) when the inputs do not fit.
  virtual Shape build(const std::vector<Shape>& inputs) = 0;

  // Learnable tensors, in the order their slices are handed to bind().
  virtual std::vector<TensorSpec> parameters() const { return {}; }
  // Non-learnable state saved with the model (batchnorm running statistics).
  virtual std::vector<TensorSpec> buffers() const { return {}; }

  // params[i] and grads[i] point at parameters()[i]'s slice; buffers[j] at buffers()[j]'s.
  virtual void bind(const std::vector<float*>& /*params*/, const std::vector<float*>& /*grads*/,
                    const std::vector<float*>& /*buffers*/) {}

  virtual void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) = 0;
  virtual void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                        std::span<Matrix* const> dx) = 0;
  // Asked by the network before each backward of a layer with parameters, with assign true when
  // the step's gradients start from nothing (Network::backward with ParamGrads::assign). A layer
  // that returns true ASSIGNS its parameter gradients in that backward (its products write them,
  // beta 0) and spares the network a pass that zeroes them; the network zeroes the slices of
  // the layers that return false. With assign false the layer must add (and return false).
  virtual bool assign_grads(bool /*assign*/) { return false; }

  // The network calls this when the config gave no "init" for this layer, saying whether the
  // layer that reads its output wants_he_init(), so the default suits the activation. Layers
  // without weights ignore it.
  virtual void set_default_init(bool /*rectifier_follows*/) {}
  // True when a copy of the layer can train on a shard of the batch on its own thread while
  // other copies take the other shards (Network::replicate): it treats every sample on its own,
  // and it learns of the rest of the batch only through Context (dropout's draws for the rows
  // before and after its own). Batchnorm, whose statistics sum over the whole batch, is not.
  virtual bool replicable() const { return false; }
  // Whether a weight layer feeding this one should default to He's init (rectifiers: He et al.
  // derive their scale for them; Glorot's xavier_uniform suits symmetric activations and none).
  virtual bool wants_he_init() const { return false; }

  // Asked at build when this layer's one input is a relu that nothing else reads. A layer that
  // takes the relu in returns true: from then on it is given the relu's input x in forward and
  // backward, returns f(relu(x)) bit for bit as if the relu had run, and writes dL/dx through
  // the relu (0 where x <= 0). The network then skips the relu's passes and its buffers. Max
  // pooling does (relu commutes with max: it applies it to the window's max only).
  virtual bool fuse_relu_input() { return false; }
  // Asked at build when this layer's output is read by a relu alone, and that relu's output by one
  // layer. A layer that runs the relu itself returns true: from then on its forward writes
  // relu(y), bit for bit what the relu would give. The network skips the relu's forward and its
  // buffers, hands the relu's reader this layer's output, and in backward runs the relu's
  // gradient in place on this layer's output gradient (relu(y) > 0 exactly where y > 0) before
  // this layer's backward. The affine layer does: it applies the relu to each chunk of its
  // product while the chunk is in cache, in the pass that adds the bias.
  virtual bool fuse_relu_output() { return false; }
  // Asked at build when this layer's one input (once relus are taken in) is a batchnorm that
  // nothing else reads. A layer that takes it in returns true: from then on it is given the
  // batchnorm's input and runs the batchnorm's forward and backward itself, bit for bit, through
  // the batchnorm layer's own calls for that (batchnorm.h), without its batch-sized output and
  // gradient; the network skips the batchnorm's passes and buffers. The 2x2 max-pool of AVX-512
  // builds does. A fusion may reach back to the parameters of layers before this one, never of
  // layers after it: the trainer updates a layer's parameters as soon as its own backward and
  // those of every layer after it have run (Network::GradsFinal).
  virtual bool fuse_batchnorm_input(Layer& /*batchnorm*/) { return false; }
  // Asked at build when this layer reads network inputs only and its output goes to a batchnorm
  // alone. A layer that accepts returns true: from then on, in a backward that asks for no input
  // gradient, the batchnorm hands it dL/dy one (row, channel) segment at a time
  // (BatchNorm::set_dx_sink) as it computes them, and the network calls
  // finish_segment_weight_grads() instead of backward; the batch-sized dL/dy is never written.
  // It may also hand the batchnorm its output channel by channel (BatchNorm::set_x_source) and
  // say so in output_by_segments(): the network then sizes its output as the batch's rows and no
  // columns, and its forward leaves it so. The batchnorm asks for those channels in its backward
  // too, computed from the parameters as they are then: a caller must not change them between
  // forward and backward. The first convolution of a CNN does both (conv2d.h).
  virtual bool fuse_batchnorm_output(Layer& /*batchnorm*/) { return false; }
  virtual bool output_by_segments() const { return false; }
  virtual void finish_segment_weight_grads() {
    throw std::logic_error("finish_segment_weight_grads on a layer that took no batchnorm's segments");
  }

  // Short human description of the settings for the layer table ("units=256 init=he_normal").
  virtual std::string describe() const { return ""; }

  // The settings that shape the computation, resolved after build() (defaults applied, "same"
  // padding in numbers), for exporters: {"slope": 0.01} for leaky_relu, {"kernel": [kh, kw],
  // "stride": [sh, sw], "pad_before": [top, left]} for conv2d and pooling, {} when there are none.
  virtual nlohmann::json settings() const { return nlohmann::json::object(); }
};

}  // namespace nettrain
