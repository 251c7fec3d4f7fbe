// Gradient check of a whole network on real samples: backprop gradients against central
// differences n = (L(p + h) − L(p − h)) / 2h, entry by entry, per parameter tensor.
//
// An entry passes when |a − n| ≤ atol + rtol·max(|a|, |n|) (a: backprop). The network runs in
// float32, so every loss evaluation carries rounding noise; divided by 2h it becomes an absolute
// noise floor on n. That noise is measured, not guessed: every parameter is moved by a few ulps,
// which changes the true loss by g·δ (known to first order), and what remains of the change is
// rounding. atol defaults to 8 × that RMS / 2h (at least ε32·|L|/8h), so a gradient that is truly
// 0 — the bias before a batchnorm — is not judged by the relative error of two rounding residues.
// rtol judges the rest.
//
// Kinks (ReLU, max pooling): when [p − h, p + h] holds a point where the loss is not
// differentiable, n averages two slopes and matches neither. An entry that fails is re-examined
// with one-sided differences on each side, first order ((L(p) − L(p − h)) / h) and second order
// ((3L(p) − 4L(p − h) + L(p − 2h)) / 2h), and likewise on the right:
//   - the two sides agree: the stretch is smooth and the backprop gradient is wrong. FAIL, final.
//   - they disagree and the backprop gradient matches one side: the step crossed a kink.
//   - they disagree and it matches neither: several kinks, or strong curvature.
// In the last two cases the entry is tried again at h/8, then h/64 (fewer kinks in reach; atol
// grows as 1/h): a pass there checks it; a kink down to the smallest step skips it, counted,
// never passed silently. A wrong gradient on a smooth stretch is never retried into a pass.
//
// Why float32 and not double: the layers, the flat parameter buffers and the BLAS kernels are
// float throughout; a double path would mean a second implementation of every layer. The
// criterion above is what makes the float check trustworthy instead.
//
// Stochastic layers draw the same mask for every evaluation (the network's Rng is restored
// before each forward).
#pragma once

#include <string>
#include <vector>

#include "nettrain/train/loss.h"
#include "nettrain/layers/network.h"

namespace nettrain {

struct GradCheckOptions {
  Index max_entries = 64;  // per tensor; more entries than this are sampled at random
  double h = 1e-3;         // step of the differences
  double rtol = 1e-2;
  double atol = -1;        // < 0: 8 × the measured rounding noise of the loss / 2h
  std::uint64_t seed = 0;  // which entries are sampled
};

struct TensorCheck {
  std::string name;
  Index entries = 0;        // entries looked at
  Index checked = 0;        // compared: entries − kinks_skipped
  Index kinks_skipped = 0;  // entries whose differences crossed a kink
  double max_abs = 0;       // largest |a − n| among the checked entries
  double worst_ratio = 0;   // largest |a − n| / (atol + rtol·max(|a|, |n|)); ≤ 1 passes
  std::string worst;        // that entry: "[index] backprop a, numeric n"
  bool ok = true;
};

struct GradCheckReport {
  std::vector<TensorCheck> tensors;
  double loss = 0;   // L at the unperturbed parameters
  double noise = 0;  // measured rounding noise of a difference of two loss evaluations (RMS)
  double atol = 0;   // the absolute tolerance used at step h
  bool ok = true;
};

GradCheckReport gradient_check(Network& net, Loss& loss, const Matrix& x, const Targets& t,
                               const GradCheckOptions& options);

}  // namespace nettrain
