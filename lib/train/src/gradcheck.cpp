// Whole-network gradient check with a combined absolute + relative criterion and kink detection;
// see gradcheck.h for the formulas and why they hold in float32.
#include "nettrain/train/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "nettrain/core/errors.h"

namespace nettrain {

namespace {

// The loss with one parameter entry moved by `delta` (0: unmoved), same dropout mask each time.
class Probe {
 public:
  Probe(Network& net, Loss& loss, const Matrix& x, const Targets& t)
      : net_(net), loss_(loss), x_(x), t_(t), mask_(net.rng().state()) {}
  ~Probe() { net_.rng().set_state(mask_); }
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  double at(Index entry, double delta) {
    float& p = net_.params()[entry];
    const float saved = p;
    p = static_cast<float>(static_cast<double>(saved) + delta);
    net_.rng().set_state(mask_);
    const double L = loss_.forward(net_.forward(x_, Mode::train), t_);
    p = saved;
    return L;
  }
  double base() {
    net_.rng().set_state(mask_);
    return loss_.forward(net_.forward(x_, Mode::train), t_);
  }

 private:
  Network& net_;
  Loss& loss_;
  const Matrix& x_;
  const Targets& t_;
  Rng::State mask_;
};

std::vector<Index> pick_entries(const TensorInfo& info, Index max_entries, Rng& pick) {
  std::vector<Index> entries;
  if (info.size <= max_entries) {
    for (Index i = 0; i < info.size; ++i) entries.push_back(info.offset + i);
  } else {
    for (Index i = 0; i < max_entries; ++i)
      entries.push_back(info.offset + static_cast<Index>(pick.below(static_cast<std::uint64_t>(info.size))));
  }
  return entries;
}

enum class Verdict { pass, fail, kink, rough };

// Why a failing entry failed. The one-sided slopes are estimated to first order over [p, p ± h]
// (reaches least far) and to second order over [p, p ± 2h] (exact on quadratic stretches); their
// noise is at most about 4× that of the central difference. When both sides agree with n the
// stretch is smooth and the backprop gradient is wrong (fail). When they disagree and it matches
// one side, the step crossed one kink (kink); when it matches neither, several kinks or strong
// curvature, or a gap within the noise (rough): a smaller step can tell.
Verdict why_failed(Probe& probe, Index e, double a, double L0, double Lp, double Lm, double h, double atol,
                   double rtol) {
  const double Lpp = probe.at(e, 2 * h), Lmm = probe.at(e, -2 * h);
  const double sides[2][2] = {{(L0 - Lm) / h, (3 * L0 - 4 * Lm + Lmm) / (2 * h)},
                              {(Lp - L0) / h, (-3 * L0 + 4 * Lp - Lpp) / (2 * h)}};
  auto tol = [&](double d) { return 4 * atol + rtol * std::max(std::fabs(a), std::fabs(d)); };
  // On a smooth stretch the second-order slopes agree with n to O(h²); when they cluster around
  // n far tighter than a does, the differences agree with each other and not with a: wrong.
  const double n = (Lp - Lm) / (2 * h);
  const double spread = std::max(std::fabs(sides[0][1] - n), std::fabs(sides[1][1] - n));
  if (spread <= 0.25 * std::fabs(a - n)) return Verdict::fail;
  const double gap = std::max(std::fabs(sides[1][0] - sides[0][0]), std::fabs(sides[1][1] - sides[0][1]));
  if (gap <= 4 * atol) return Verdict::rough;  // the slopes differ by no more than noise: cannot tell
  for (const auto& side : sides)
    for (const double d : side)
      if (std::fabs(a - d) <= tol(d)) return Verdict::kink;
  return Verdict::rough;
}

// The rounding noise of L(p + δ) − L(p − δ): every parameter is moved by a few ulps (which
// changes the true loss by g·δ, known to first order) and the rest of the change is rounding.
// Returns the RMS over `probes` such moves; the central difference's noise is that over 2h.
double loss_noise(Network& net, Probe& probe, const Vector& g, double L0, int probes) {
  Vector& p = net.params();
  const Vector saved = p;
  Rng rng(0x6E015Eull);
  double sum2 = 0;
  for (int k = 0; k < probes; ++k) {
    double predicted = 0;
    for (Index i = 0; i < p.size(); ++i) {
      const float step = 4 * std::numeric_limits<float>::epsilon() * std::max(std::fabs(saved[i]), 1e-3f) *
                         static_cast<float>(rng.normal());
      p[i] = saved[i] + step;
      predicted += static_cast<double>(g[i]) * static_cast<double>(p[i] - saved[i]);
    }
    const double residual = probe.base() - L0 - predicted;
    sum2 += residual * residual;
  }
  p = saved;
  return std::sqrt(sum2 / probes);
}

// One entry at step h: the central difference against atol + rtol·max(|a|, |n|), and on failure
// why.
Verdict judge(Probe& probe, Index e, double a, double L0, double h, double atol, double rtol, double& diff,
              double& ratio, double& n) {
  const double Lp = probe.at(e, h), Lm = probe.at(e, -h);
  n = (Lp - Lm) / (2 * h);
  diff = std::fabs(a - n);
  ratio = diff / (atol + rtol * std::max(std::fabs(a), std::fabs(n)));
  if (!std::isfinite(ratio)) ratio = std::numeric_limits<double>::infinity();  // NaN must fail
  if (ratio <= 1) return Verdict::pass;
  if (!std::isfinite(n) || !std::isfinite(a)) return Verdict::fail;
  return why_failed(probe, e, a, L0, Lp, Lm, h, atol, rtol);
}

}  // namespace

GradCheckReport gradient_check(Network& net, Loss& loss, const Matrix& x, const Targets& t, const GradCheckOptions& o) {
  if (!(o.h > 0) || !(o.rtol >= 0) || o.max_entries < 1)
    throw ConfigError("gradient check: expected a step > 0, rtol >= 0 and at least one entry per tensor");
  GradCheckReport r;
  Probe probe(net, loss, x, t);
  r.loss = probe.base();
  Matrix dz;
  loss.backward(dz);
  net.zero_grads();
  net.backward(dz);
  const Vector analytic = net.grads();
  constexpr double kEps32 = std::numeric_limits<float>::epsilon();
  // 8 standard deviations of the measured noise, and never below a fraction of an ulp of L.
  const double floor = 0.25 * kEps32 * std::max(std::fabs(r.loss), 0.1);
  r.noise = loss_noise(net, probe, analytic, r.loss, 8);
  r.atol = o.atol >= 0 ? o.atol : 8 * std::max(r.noise, floor) / (2 * o.h);

  Rng pick(o.seed);
  for (const auto& info : net.tensors()) {
    if (!info.trainable) continue;
    TensorCheck c;
    c.name = info.name;
    for (const Index e : pick_entries(info, o.max_entries, pick)) {
      ++c.entries;
      const double a = analytic[e];
      // At h, then at smaller steps while the stretch is not smooth: a step across several kinks,
      // or a strongly curved stretch, can pass at h/8 (with the noise floor 8× larger). A failure
      // on a smooth stretch is final, so a wrong gradient is never retried into a pass. Kinks
      // down to the smallest step skip the entry.
      bool kink = false, passed = false;
      double diff0 = 0, ratio0 = 0, n0 = 0;
      for (const double scale : {1.0, 8.0, 64.0}) {
        double diff = 0, ratio = 0, n = 0;
        const Verdict v = judge(probe, e, a, r.loss, o.h / scale, r.atol * scale, o.rtol, diff, ratio, n);
        if (scale == 1.0) {
          diff0 = diff;
          ratio0 = ratio;
          n0 = n;
        }
        if (v == Verdict::pass) {
          passed = true;
          diff0 = diff;
          ratio0 = ratio;
          n0 = n;
          break;
        }
        kink = kink || v == Verdict::kink;
        if (v == Verdict::fail) {
          kink = false;
          break;
        }
      }
      if (!passed && kink) {
        ++c.kinks_skipped;
        continue;
      }
      ++c.checked;
      c.max_abs = std::max(c.max_abs, diff0);
      if (ratio0 > c.worst_ratio || c.worst.empty()) {
        c.worst_ratio = std::max(c.worst_ratio, ratio0);
        char buf[96];
        std::snprintf(buf, sizeof buf, "[%lld] backprop %.6g, numeric %.6g", static_cast<long long>(e - info.offset), a,
                      n0);
        c.worst = buf;
      }
    }
    c.ok = c.worst_ratio <= 1.0;
    r.ok = r.ok && c.ok;
    r.tensors.push_back(std::move(c));
  }
  return r;
}

}  // namespace nettrain
