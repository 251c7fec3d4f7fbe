// nettrain gradcheck CONFIG: backprop against central differences on the real network and N
// real training samples, per parameter tensor. Exit 1 when any tensor is above the tolerance.
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
  constexpr double kStep = 1e-3;
  constexpr Index kMaxEntries = 64;
  const auto checks = gradient_check(ex.net, *ex.loss, batch.x, batch.targets(data.train.task), kMaxEntries, kStep,
                                     ex.options.seed);
  bool ok = true;
  nlohmann::json rows = nlohmann::json::array();
  Table t({"tensor", "entries", "rel. error", "max |diff|", ""});
  for (const auto& c : checks) {
    const bool pass = c.error <= a.tolerance;
    ok = ok && pass;
    char err[32], diff[32];
    std::snprintf(err, sizeof err, "%.2e", c.error);
    std::snprintf(diff, sizeof diff, "%.2e", c.max_abs);
    t.add({c.name, std::to_string(c.entries), err, diff, pass ? "ok" : "FAIL"});
    rows.push_back({{"tensor", c.name}, {"entries", c.entries}, {"relative_error", c.error}, {"max_abs_diff", c.max_abs},
                    {"ok", pass}});
  }
  if (g.json) {
    std::printf("%s\n", nlohmann::json{{"ok", ok}, {"tolerance", a.tolerance}, {"samples", n}, {"step", kStep},
                                       {"tensors", rows}}
                            .dump(2)
                            .c_str());
  } else {
    std::printf("gradient check on %lld samples, central differences with h = %g (float32),\n"
                "relative error = |g_backprop - g_numeric| / (|g_backprop| + |g_numeric|) over up to %lld entries\n\n%s\n",
                static_cast<long long>(n), kStep, static_cast<long long>(kMaxEntries), t.str().c_str());
    std::printf("%s: tolerance %g\n", ok ? "ok" : "FAILED", a.tolerance);
  }
  return ok ? 0 : 1;
}

}  // namespace nettrain::app
