// Optimizer::step: the whole update as begin_step and update over fixed ranges (optimizer.h).
#include "nettrain/train/optimizer.h"

#include "train_common.h"

namespace nettrain {

void Optimizer::step(VectorMap params, ConstVectorMap grads, float lr) {
  train_detail::check_sizes(type(), params.size(), params.size(), grads.size());
  begin_step(params.size(), lr);
  float* p = params.data();
  const float* g = grads.data();
  parallel_ranges(params.size(), train_detail::kElementGrain,
                  [&](Index begin, Index end) { update(p, g, begin, end); });
}

}  // namespace nettrain
