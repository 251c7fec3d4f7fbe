// The one data layout of nettrain, written once.
//
// A batch is a row-major (batch, features) matrix of float, one sample per row. A layer whose
// samples have a spatial shape [C, H, W] still stores a batch as (batch, C*H*W), channel-major
// within a row, so every layer sees the same 2-D matrix. The textbook affine layer reads:
//
//   y = x·W + b        x: (batch, in)   W: (in, out)   b: (1, out)   y: (batch, out)
//   dx = dy·Wᵀ         dW = xᵀ·dy       db = sum over rows of dy
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace nettrain {

using Index = Eigen::Index;

// (batch, features), row-major: a row is a sample.
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowVector = Eigen::Matrix<float, 1, Eigen::Dynamic>;
using Vector = Eigen::VectorXf;

using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;
using RowVectorMap = Eigen::Map<RowVector>;
using ConstRowVectorMap = Eigen::Map<const RowVector>;
using VectorMap = Eigen::Map<Vector>;
using ConstVectorMap = Eigen::Map<const Vector>;

// The shape of one sample: [features] or [channels, height, width]. The batch axis is never part
// of a Shape.
struct Shape {
  std::vector<Index> dims;

  Shape() = default;
  Shape(std::initializer_list<Index> d) : dims(d) {}
  explicit Shape(std::vector<Index> d) : dims(std::move(d)) {}

  // Number of floats in one sample.
  Index size() const {
    Index n = 1;
    for (Index d : dims) n *= d;
    return n;
  }
  std::size_t rank() const { return dims.size(); }
  Index operator[](std::size_t i) const { return dims[i]; }
  bool operator==(const Shape&) const = default;
  std::string str() const;  // "[1, 28, 28]"
};

}  // namespace nettrain
