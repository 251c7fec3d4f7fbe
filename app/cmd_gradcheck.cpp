// nettrain gradcheck CONFIG: backprop against central differences on the real network and N
// real training samples, per parameter tensor (criterion and kinks: gradcheck.h). Exit 1 when an entry fails.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <numeric>

#include "commands.h"
#include "nettrain/run/config.h"
#include "nettrain/data/data.h"
#include "nettrain/train/gradcheck.h"
#include "nettrain/run/fit.h"
#include "table.h"

namespace nettrain::app {

namespace {
std::string fmt_sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", v);
  return buf;
}
}  // namespace

int cmd_gradcheck(const GlobalOptions& g, const GradcheckArgs& a) {
  Config config = load_config(a.config, a.overrides);
  Experiment ex = build_experiment(config);
  DataBundle data = load_data(config.root().child("data"), config.base_dir, ex.options.seed);
  check_data_fits(data, ex.net, *ex.loss, config.root().child("model"));
  ex.net.init_params(ex.options.seed);
  const Index n = std::min<Index>(a.samples, data.train.num_samples);
  std::vector<Index> idx(static_cast<std::size_t>(n));
  std::iota(idx.begin(), idx.end(), Index{0});
  Batch batch;
  data.train.fill_batch(idx, data.preprocess, batch);
  GradCheckOptions o;
  o.h = a.step;
  o.rtol = a.tolerance;
  o.atol = a.atol;
  o.seed = ex.options.seed;
  const GradCheckReport r = gradient_check(ex.net, *ex.loss, batch.x, batch.targets(data.train.task), o);
  nlohmann::json rows = nlohmann::json::array();
  Table t({"tensor", "entries", "checked", "skipped (kink)", "max |diff|", "worst ratio", ""});
  for (const auto& c : r.tensors) {
    t.add({c.name, std::to_string(c.entries), std::to_string(c.checked), std::to_string(c.kinks_skipped),
           fmt_sci(c.max_abs), fmt_sci(c.worst_ratio), c.ok ? "ok" : "FAIL  " + c.worst});
    rows.push_back({{"tensor", c.name},
                    {"entries", c.entries},
                    {"checked", c.checked},
                    {"kinks_skipped", c.kinks_skipped},
                    {"max_abs_diff", c.max_abs},
                    {"worst_ratio", c.worst_ratio},
                    {"worst", c.worst},
                    {"ok", c.ok}});
  }
  if (g.json) {
    std::printf("%s\n", nlohmann::json{{"ok", r.ok},
                                       {"rtol", o.rtol},
                                       {"atol", r.atol},
                                       {"samples", n},
                                       {"step", o.h},
                                       {"loss", r.loss},
                                       {"tensors", rows}}
                            .dump(2)
                            .c_str());
  } else {
    std::printf(
        "gradient check on %lld samples (loss %.6g), central differences with h = %g in float32, up to %lld\n"
        "entries per tensor; an entry passes when |backprop - numeric| <= atol + rtol * max(|backprop|, "
        "|numeric|)\nwith atol = %.3g (the float32 noise floor) and rtol = %g; entries whose differences "
        "cross a kink\n(relu, max pooling) are skipped and counted. worst ratio <= 1 passes.\n\n%s\n",
        static_cast<long long>(n), r.loss, o.h, static_cast<long long>(o.max_entries), r.atol, o.rtol, t.str().c_str());
    if (r.ok) std::printf("ok: every tensor within atol %.3g + rtol %g\n", r.atol, o.rtol);
    else std::printf("FAILED: a tensor is outside atol %.3g + rtol %g\n", r.atol, o.rtol);
  }
  return r.ok ? 0 : 1;
}

}  // namespace nettrain::app
