#include "nettrain/train/gradcheck.h"

#include <cmath>

namespace nettrain {

std::vector<TensorCheck> gradient_check(Network& net, Loss& loss, const Matrix& x, const Targets& t,
                                        Index max_entries, double h, std::uint64_t seed) {
  const Rng::State mask_state = net.rng().state();
  auto eval_loss = [&]() {
    net.rng().set_state(mask_state);
    return loss.forward(net.forward(x, Mode::train), t);
  };
  eval_loss();
  Matrix dz;
  loss.backward(dz);
  net.zero_grads();
  net.backward(dz);
  const Vector analytic = net.grads();

  Rng pick(seed);
  std::vector<TensorCheck> out;
  Vector& p = net.params();
  for (const auto& info : net.tensors()) {
    if (!info.trainable) continue;
    TensorCheck c;
    c.name = info.name;
    std::vector<Index> entries;
    if (info.size <= max_entries) {
      for (Index i = 0; i < info.size; ++i) entries.push_back(info.offset + i);
    } else {
      for (Index i = 0; i < max_entries; ++i)
        entries.push_back(info.offset + static_cast<Index>(pick.below(static_cast<std::uint64_t>(info.size))));
    }
    double diff2 = 0, a2 = 0, n2 = 0;
    for (Index e : entries) {
      const float saved = p[e];
      p[e] = static_cast<float>(saved + h);
      const double plus = eval_loss();
      p[e] = static_cast<float>(saved - h);
      const double minus = eval_loss();
      p[e] = saved;
      const double numeric = (plus - minus) / (2 * h);
      const double a = analytic[e];
      diff2 += (a - numeric) * (a - numeric);
      a2 += a * a;
      n2 += numeric * numeric;
      c.max_abs = std::max(c.max_abs, std::fabs(a - numeric));
    }
    const double denom = std::sqrt(a2) + std::sqrt(n2);
    c.error = denom > 0 ? std::sqrt(diff2) / denom : 0.0;
    c.entries = static_cast<Index>(entries.size());
    out.push_back(c);
  }
  net.rng().set_state(mask_state);
  return out;
}

}  // namespace nettrain
