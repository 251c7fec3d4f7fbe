// nettrain plot RUN_DIR... [-o FILE.svg]: several runs' curves in one SVG.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "nettrain/core/files.h"
#include "nettrain/io/plot.h"

namespace nettrain::app {

int cmd_plot(const GlobalOptions& g, const std::vector<std::string>& runs, const std::string& output) {
  std::vector<std::pair<std::string, MetricsTable>> tables;
  for (const auto& dir : runs) {
    std::string name = std::filesystem::path(dir).lexically_normal().filename().string();
    if (name.empty()) name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
    tables.emplace_back(name, read_metrics_csv((std::filesystem::path(dir) / "metrics.csv").string()));
  }
  write_file_atomic(output, curves_svg(tables));
  if (g.json) {
    std::printf("%s\n", nlohmann::json{{"output", output}, {"runs", runs}}.dump().c_str());
  } else {
    spdlog::info("wrote {} ({} run{})", output, runs.size(), runs.size() == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace nettrain::app
