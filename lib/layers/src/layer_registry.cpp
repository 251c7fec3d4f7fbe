// The layer registry: one line per layer type. Adding a layer = its .h/.cpp pair, one line here,
// and one entry in the table of tests/unit/test_layers.cpp (the tests fail without it).
#include "nettrain/layers/registry.h"

#include "activations.h"
#include "affine.h"
#include "batchnorm.h"
#include "binary.h"
#include "conv2d.h"
#include "dropout.h"
#include "elementwise_math.h"
#include "pool.h"
#include "reshape.h"
#include "softmax.h"

namespace nettrain {

const Registry<Layer>& layer_registry() {
  static const Registry<Layer> registry = [] {
    Registry<Layer> r("layer type");
    r.add("affine", Affine::create);
    r.add("relu", Relu::create);
    r.add("leaky_relu", LeakyRelu::create);
    r.add("sigmoid", Sigmoid::create);
    r.add("tanh", Tanh::create);
    r.add("softmax", Softmax::create);
    r.add("dropout", Dropout::create);
    r.add("batchnorm", BatchNorm::create);
    r.add("add", Add::create);
    r.add("mul", Mul::create);
    r.add("exp", Exp::create);
    r.add("pow", Pow::create);
    r.add("scale", Scale::create);
    r.add("conv2d", Conv2d::create);
    r.add("maxpool2d", Pool2d::create_max);
    r.add("avgpool2d", Pool2d::create_avg);
    r.add("global_avg_pool", GlobalAvgPool::create);
    r.add("flatten", Flatten::create);
    return r;
  }();
  return registry;
}

}  // namespace nettrain
