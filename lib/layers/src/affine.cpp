// Affine layer: y = x·W + b, x (batch, in), W (in, out), b (1, out). See affine.h.
#include "affine.h"

#include <cstdlib>
#include <sstream>

#include "gemm.h"

namespace nettrain {

namespace {
// OpenBLAS starts its own threads at load unless OPENBLAS_NUM_THREADS=1; they would only spin
// and sleep (the pool owns the cores, gemm.h). It reads the variable in its own constructor,
// which runs after this one (priority 101 runs before the default priority).
__attribute__((constructor(101))) void openblas_one_thread() { ::setenv("OPENBLAS_NUM_THREADS", "1", 1); }
}  // namespace

Affine::Affine(Index units, std::string init, bool user_init, double std, bool bias)
    : out_(units), init_(std::move(init)), user_init_(user_init), std_(std), bias_(bias) {}

std::unique_ptr<Layer> Affine::create(const ConfigNode& node) {
  check_layer_keys(node, {"units", "init", "std", "bias"});
  const Index units = node.get_positive_int("units");
  const WeightInit w = WeightInit::read(node);
  const bool bias = node.get_bool_or("bias", true);
  return std::make_unique<Affine>(units, w.init, w.user_init, w.std, bias);
}

Shape Affine::build(const std::vector<Shape>& inputs) {
  require_inputs(inputs, 1);
  in_ = inputs[0].size();
  return Shape{out_};
}

std::vector<TensorSpec> Affine::parameters() const {
  std::vector<TensorSpec> specs;
  specs.push_back({"weight", {in_, out_}, InitSpec{init_, std_, in_, out_}});
  if (bias_) specs.push_back({"bias", {out_}, InitSpec{"zeros", 0.0, in_, out_}});
  return specs;
}

void Affine::bind(const std::vector<float*>& params, const std::vector<float*>& grads,
                  const std::vector<float*>& buffers) {
  (void)buffers;
  W_ = params.at(0);
  dW_ = grads.at(0);
  if (bias_) {
    b_ = params.at(1);
    db_ = grads.at(1);
  }
}

void Affine::forward(std::span<const Matrix* const> x, Matrix& y, const Context& ctx) {
  (void)ctx;
  ensure_size(y, x[0]->rows(), out_);
  gemm_detail::forward(*x[0], W_, in_, out_, y);  // (batch, out)
  if (bias_) y.rowwise() += RowVectorMap(b_, out_);
}

void Affine::backward(std::span<const Matrix* const> x, const Matrix& y, const Matrix& dy,
                      std::span<Matrix* const> dx) {
  (void)y;
  gemm_detail::weight_grad(*x[0], dy, dW_, in_, out_);  // (in, out)
  if (bias_) RowVectorMap(db_, out_).noalias() += dy.colwise().sum();
  if (dx[0] != nullptr) {
    ensure_size(*dx[0], dy.rows(), in_);
    gemm_detail::input_grad(dy, W_, in_, out_, *dx[0]);  // (batch, in)
  }
}

void Affine::set_default_init(const std::string& next_type) {
  if (user_init_) return;
  init_ = (next_type == "relu" || next_type == "leaky_relu") ? "he_normal" : "xavier_uniform";
}

std::string Affine::describe() const {
  std::ostringstream os;
  os << "units=" << out_ << " init=" << init_;
  if (init_ == "normal") os << " std=" << std_;
  if (!bias_) os << " bias=false";
  return os.str();
}

}  // namespace nettrain
