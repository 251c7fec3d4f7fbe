// Losses: the last step of the forward pass and the first of the backward pass.
//
// Every loss is the MEAN over the batch, and backward gives dL/dz for that mean, so a loss of
// batch size B has gradients scaled by 1/B (the textbook's SoftmaxWithLoss: (y - t) / B).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "nettrain/tensor.h"

namespace nettrain {

// Targets of a batch: class labels for classification, a value matrix for regression (and for
// multi-label sigmoid_binary_cross_entropy). Exactly one of the two is used by a loss.
struct Targets {
  std::span<const std::int32_t> labels;  // (batch) class indices 0..K-1
  const Matrix* values = nullptr;        // (batch, out)
};

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string type() const = 0;
  // Whether targets are class labels (true) or values (false).
  virtual bool uses_labels() const = 0;

  // z: (batch, out), the network's raw output. Returns the mean loss over the batch (computed in
  // double). Keeps what backward needs.
  virtual double forward(const Matrix& z, const Targets& t) = 0;
  // dz: (batch, out), ASSIGNED dL/dz of the mean loss from the last forward.
  virtual void backward(Matrix& dz) = 0;

  // Turns raw outputs into what predict prints (class probabilities for softmax_cross_entropy,
  // sigmoid probabilities, identity for mse). probs: (batch, out).
  virtual void predict(const Matrix& z, Matrix& probs) const = 0;
};

}  // namespace nettrain
