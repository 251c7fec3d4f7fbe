// The registries of losses, optimizers and learning-rate schedules: one function per kind, one
// line per entry. A factory gets the entry's config object ({"type": ..., settings}) and checks
// its keys; a loss given as a bare string in the model config is turned into {"type": name} by
// the caller.
#include <memory>

#include "adagrad.h"
#include "adam.h"
#include "mse.h"
#include "nettrain/train/registry.h"
#include "reduce_on_plateau.h"
#include "rmsprop.h"
#include "schedules.h"
#include "sgd.h"
#include "sigmoid_binary_cross_entropy.h"
#include "softmax_cross_entropy.h"

namespace nettrain {
namespace {

template <class Base, class T>
std::unique_ptr<Base> make(const ConfigNode& cfg) {
  return std::make_unique<T>(cfg);
}

Registry<Loss> make_loss_registry() {
  Registry<Loss> r("loss");
  r.add("softmax_cross_entropy", make<Loss, SoftmaxCrossEntropy>);
  r.add("sigmoid_binary_cross_entropy", make<Loss, SigmoidBinaryCrossEntropy>);
  r.add("mse", make<Loss, Mse>);
  return r;
}

Registry<Optimizer> make_optimizer_registry() {
  Registry<Optimizer> r("optimizer");
  r.add("sgd", make<Optimizer, Sgd>);
  r.add("adagrad", make<Optimizer, Adagrad>);
  r.add("rmsprop", make<Optimizer, RmsProp>);
  r.add("adam", [](const ConfigNode& c) { return std::make_unique<Adam>(c, Adam::Decay::l2); });
  r.add("adamw", [](const ConfigNode& c) { return std::make_unique<Adam>(c, Adam::Decay::decoupled); });
  return r;
}

Registry<Schedule> make_schedule_registry() {
  Registry<Schedule> r("learning-rate schedule");
  r.add("constant", make<Schedule, ConstantSchedule>);
  r.add("step", make<Schedule, StepSchedule>);
  r.add("exponential", make<Schedule, ExponentialSchedule>);
  r.add("cosine", make<Schedule, CosineSchedule>);
  r.add("reduce_on_plateau", make<Schedule, ReduceOnPlateau>);
  return r;
}

}  // namespace

const Registry<Loss>& loss_registry() {
  static const Registry<Loss> r = make_loss_registry();
  return r;
}

const Registry<Optimizer>& optimizer_registry() {
  static const Registry<Optimizer> r = make_optimizer_registry();
  return r;
}

const Registry<Schedule>& schedule_registry() {
  static const Registry<Schedule> r = make_schedule_registry();
  return r;
}

}  // namespace nettrain
