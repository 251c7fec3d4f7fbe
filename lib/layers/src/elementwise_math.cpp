// exp (y = a^x), pow (y = x^n), scale (y = factor·x + offset) on (batch, n). See elementwise_math.h.
#include "elementwise_math.h"

#include <cmath>
#include <numbers>

#include <fmt/format.h>

namespace nettrain {

Exp::Exp(double base) : base_(base), log_base_(static_cast<float>(std::log(base))) {}

std::unique_ptr<Layer> Exp::create(const ConfigNode& node) {
  check_layer_keys(node, {"base"});
  const double base = node.get_number_or("base", std::numbers::e);
  node.check_min_exclusive("base", base, 0.0);
  return std::make_unique<Exp>(base);
}

void Exp::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) {
  ensure_size(y, x[0]->rows(), x[0]->cols());
  y.array() = (x[0]->array() * log_base_).exp();
}

void Exp::backward(std::span<const Matrix* const> /*x*/, const Matrix& y, const Matrix& dy,
                   std::span<Matrix* const> dx) {
  if (dx[0] == nullptr) return;
  ensure_size(*dx[0], dy.rows(), dy.cols());
  dx[0]->array() = dy.array() * y.array() * log_base_;
}

std::string Exp::describe() const {
  if (base_ == std::numbers::e) return "";
  return fmt::format("base={:g}", base_);
}

std::unique_ptr<Layer> Pow::create(const ConfigNode& node) {
  check_layer_keys(node, {"exponent"});
  return std::make_unique<Pow>(static_cast<float>(node.get_number_or("exponent", 2.0)));
}

void Pow::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) {
  ensure_size(y, x[0]->rows(), x[0]->cols());
  y.array() = x[0]->array().pow(exponent_);
}

void Pow::backward(std::span<const Matrix* const> x, const Matrix& /*y*/, const Matrix& dy,
                   std::span<Matrix* const> dx) {
  if (dx[0] == nullptr) return;
  ensure_size(*dx[0], dy.rows(), dy.cols());
  if (exponent_ == 0.0f) {
    dx[0]->setZero();  // y = 1: avoids 0·x^{-1} = NaN at x = 0
    return;
  }
  // x^{n−1} rather than y/x, which would be 0/0 at x = 0.
  dx[0]->array() = dy.array() * exponent_ * x[0]->array().pow(exponent_ - 1.0f);
}

std::string Pow::describe() const { return fmt::format("exponent={:g}", exponent_); }

std::unique_ptr<Layer> Scale::create(const ConfigNode& node) {
  check_layer_keys(node, {"factor", "offset"});
  return std::make_unique<Scale>(static_cast<float>(node.get_number_or("factor", 1.0)),
                                 static_cast<float>(node.get_number_or("offset", 0.0)));
}

void Scale::forward(std::span<const Matrix* const> x, Matrix& y, const Context& /*ctx*/) {
  ensure_size(y, x[0]->rows(), x[0]->cols());
  y.array() = factor_ * x[0]->array() + offset_;
}

void Scale::backward(std::span<const Matrix* const> /*x*/, const Matrix& /*y*/, const Matrix& dy,
                     std::span<Matrix* const> dx) {
  if (dx[0] == nullptr) return;
  ensure_size(*dx[0], dy.rows(), dy.cols());
  dx[0]->array() = factor_ * dy.array();
}

std::string Scale::describe() const { return fmt::format("factor={:g} offset={:g}", factor_, offset_); }

}  // namespace nettrain
