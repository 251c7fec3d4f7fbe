// nettrain validate CONFIG: everything short of training. Config, shape inference, data headers
// and counts, data against the network; prints the layer table and totals.
#include <nlohmann/json.hpp>

#include <cstdio>

#include "commands.h"
#include "nettrain/run/config.h"
#include "nettrain/run/fit.h"
#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"
#include "table.h"

namespace nettrain::app {

int cmd_validate(const GlobalOptions& g, const ValidateArgs& a) {
  set_data_cache(!a.no_cache);
  Config config = load_config(a.config, a.overrides);
  Experiment ex = build_experiment(config);
  const DataSummary data = inspect_data(config.root().child("data"), config.base_dir);
  for (const auto& s : data.splits) check_data_fits(split_facts(s), ex.net, *ex.loss, config.root().child("model"));

  nlohmann::json layers = nlohmann::json::array();
  Table t({"layer", "type", "inputs", "output", "params", "settings"});
  for (const auto& n : ex.net.summary()) {
    std::string inputs;
    for (const auto& in : n.inputs) inputs += (inputs.empty() ? "" : ",") + in;
    t.add({n.name, n.type, inputs, n.output_shape.str(), fmt_count(n.params), n.settings});
    layers.push_back({{"name", n.name},
                      {"type", n.type},
                      {"inputs", n.inputs},
                      {"output_shape", n.output_shape.dims},
                      {"params", n.params},
                      {"settings", n.settings}});
  }
  nlohmann::json splits = nlohmann::json::array();
  Table d({"split", "format", "samples", "sample shape", "task", "classes/targets", "source"});
  for (const auto& s : data.splits) {
    const long long kt = s.task == Task::classification ? s.num_classes : static_cast<long long>(s.num_targets);
    d.add({s.name, s.format, fmt_count(s.num_samples), s.sample_shape.str(), to_string(s.task), std::to_string(kt),
           s.source});
    splits.push_back({{"split", s.name},
                      {"format", s.format},
                      {"samples", s.num_samples},
                      {"sample_shape", s.sample_shape.dims},
                      {"task", to_string(s.task)},
                      {"classes", s.num_classes},
                      {"targets", s.num_targets},
                      {"source", s.source}});
  }
  if (g.json) {
    std::printf("%s\n", nlohmann::json{{"config", a.config},
                                       {"valid", true},
                                       {"name", config.json["name"]},
                                       {"input_shape", ex.net.input_shape().dims},
                                       {"output_shape", ex.net.output_shape().dims},
                                       {"parameters", ex.net.param_count()},
                                       {"loss", ex.loss->type()},
                                       {"optimizer", ex.optimizer->type()},
                                       {"schedule", ex.schedule->type()},
                                       {"layers", layers},
                                       {"data", splits},
                                       {"resolved", config.json}}
                            .dump(2)
                            .c_str());
    return 0;
  }
  std::printf("%s: valid\n\nmodel (input %s, loss %s)\n%s", a.config.c_str(), ex.net.input_shape().str().c_str(),
              ex.loss->type().c_str(), t.str().c_str());
  std::printf("  %s parameters (%s KiB as float32)\n\n", fmt_count(ex.net.param_count()).c_str(),
              fmt_count(ex.net.param_count() * 4 / 1024).c_str());
  std::printf("data\n%s\n", d.str().c_str());
  std::printf("training: %lld epochs, batch %lld, optimizer %s (lr %g), schedule %s\n",
              static_cast<long long>(ex.options.epochs), static_cast<long long>(ex.options.batch_size),
              ex.optimizer->type().c_str(), ex.optimizer->base_lr(), ex.schedule->type().c_str());
  return 0;
}

}  // namespace nettrain::app
