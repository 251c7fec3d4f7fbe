// 2-D max and average pooling over windows of each channel.
//
//   x: (batch, C·H·W)   y: (batch, C·OH·OW)   channel-major rows; OH, OW as in window.h
//   maxpool2d: y[c, oh, ow] = max over the window of x (padding cells never win)
//              dx[argmax] += dy (assigned: dx starts at zero); ties go to the first maximum in
//              row-major window order
//              with a relu taken in (Layer::fuse_relu_input), x is the relu's input z:
//              y = max(window of z) where that is > 0, else relu(z) of the window's first cell
//              (the first of the window's relu zeros, as max over relu(z) returns, sign of zero
//              included); dy reaches the first maximum only where y > 0 (elsewhere the relu's
//              gradient is 0 in the whole window)
//   avgpool2d: y[c, oh, ow] = (sum over the window of x) / (kh·kw), padding counted as zeros
//              (PyTorch's count_include_pad); dx[cell] += dy / (kh·kw) for each real cell
//
// Config: {"type": "maxpool2d" | "avgpool2d", "kernel": 2, "stride": kernel, "padding": "valid"}
//   kernel  int or [kh, kw], default 2;  stride  default = kernel
//   padding "valid" (default) or int / [ph, pw] on each side, smaller than the kernel
#pragma once

#include <cstdint>
#include <memory>

#include "layer_util.h"
#include "window.h"

namespace nettrain {

class BatchNorm;

class Pool2d : public Layer {
 public:
  bool replicable() const override { return true; }
  Pool2d(bool max, Window window) : max_(max), win_(window) {}
  static std::unique_ptr<Layer> create_max(const ConfigNode& node);
  static std::unique_ptr<Layer> create_avg(const ConfigNode& node);

  std::string type() const override { return max_ ? "maxpool2d" : "avgpool2d"; }
  Shape build(const std::vector<Shape>& inputs) override;
  void forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) override;
  void backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                std::span<Matrix* const> dx) override;
  // A max-pool takes in the relu before it: relu(max(window)) = max(relu(window)), so the relu
  // is applied to the outputs only, and the gradient passes where the output is > 0.
  bool fuse_relu_input() override { return relu_ = max_; }
  // The 2x2 max-pool of AVX-512 builds takes in the batchnorm before it (Layer::
  // fuse_batchnorm_input): forward pools each of the batchnorm's output segments (one channel of
  // one sample) while it is in the first-level cache, backward writes each segment of the
  // batchnorm's dy there for it; the batch-sized output and gradient between the two are never
  // written.
  bool fuse_batchnorm_input(Layer& batchnorm) override;
  std::string describe() const override { return win_.describe(); }
  nlohmann::json settings() const override { return win_.settings(); }

 private:
  bool max_;
  bool relu_ = false;        // a relu taken in (fuse_relu_input): x is the relu's input
  BatchNorm* bn_ = nullptr;  // a batchnorm taken in (fuse_batchnorm_input): x is its input
  Window win_;
  // (batch, C·OH·OW): index within the row of x of each window's maximum (maxpool only).
  Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> argmax_;
  // The 2x2 stride-2 max-pool: argmax_ unused. In AVX-512 builds a train-mode forward keeps
  // route_ (batch, C·OH·ceil(OW/8)·2): per input row of 8 windows, a 16-bit mask of the cells
  // that get dy (route_valid_ while it belongs to the last forward); elsewhere, and after an
  // eval-mode forward, backward finds each window's first maximum again by comparing x with y.
  // With a batchnorm taken in, forward keeps route_ in every mode (backward has no y).
  bool is_2x2() const;
  Eigen::Matrix<std::uint16_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> route_;
  bool route_valid_ = false;
  Index route_width() const { return win_.C * win_.OH * ((win_.OW + 7) / 8) * 2; }
  void forward_through_batchnorm(const Matrix& in, Matrix& y, const Context& ctx);
  void backward_through_batchnorm(const Matrix& in, const Matrix& dy, Matrix* dx);
};

}  // namespace nettrain
