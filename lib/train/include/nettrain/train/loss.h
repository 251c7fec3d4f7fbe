// Losses: the last step of the forward pass and the first of the backward pass.
//
// Every loss is the MEAN over the batch, and backward gives dL/dz for that mean, so a loss of
// batch size B has gradients scaled by 1/B (the textbook's SoftmaxWithLoss: (y - t) / B).
#pragma once

#include <cstdint>
#include <span>
#include <memory>
#include <string>

#include "nettrain/core/tensor.h"
#include "nettrain/data/data.h"

namespace nettrain {

// Classes a network with `outputs` outputs tells apart: one output is a binary classifier (a
// single sigmoid), otherwise one class per output.
inline Index class_count(Index outputs) { return outputs == 1 ? 2 : outputs; }

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string type() const = 0;
  // A copy with the same settings (label smoothing, the mean's rows), for training a sample
  // shard on its own thread; null when the loss cannot be copied.
  virtual std::unique_ptr<Loss> clone() const { return nullptr; }
  // Whether targets may be class labels (classification data).
  virtual bool uses_labels() const = 0;
  // Whether targets may be a value matrix (regression or multi-label data).
  virtual bool uses_values() const = 0;
  // The fewest outputs the loss makes sense on (softmax over one output is always 1).
  virtual Index min_outputs() const { return 1; }
  // Label smoothing (model.label_smoothing): only losses over class labels take it; the others
  // answer false and the config is refused.
  virtual bool supports_label_smoothing() const { return false; }
  virtual void set_label_smoothing(double /*epsilon*/) {}

  // z: (batch, out), the network's raw output. Returns the mean loss over the batch (computed in
  // double). Keeps what backward needs.
  virtual double forward(const Matrix& z, const Targets& t) = 0;
  // dz: (batch, out), ASSIGNED dL/dz of the mean loss from the last forward.
  virtual void backward(Matrix& dz) = 0;

  // Turns raw outputs into what predict prints (class probabilities for softmax_cross_entropy,
  // sigmoid probabilities, identity for mse). probs: (batch, out).
  virtual void predict(const Matrix& z, Matrix& probs) const = 0;

  // Data parallelism: backward gives the gradient of the mean over a global batch of `rows` rows,
  // of which the last forward saw this process's slice. 0 (the default): the forward's rows.
  void set_mean_rows(Index rows) { mean_rows_ = rows; }

 protected:
  Index mean_rows(Index forward_rows) const { return mean_rows_ > 0 ? mean_rows_ : forward_rows; }

 private:
  Index mean_rows_ = 0;
};

}  // namespace nettrain
