#include "log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace nettrain::app {

namespace {
std::shared_ptr<spdlog::sinks::basic_file_sink_mt> g_file_sink;
}

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

void setup_logging(const GlobalOptions& g) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_pattern("%^%l%$: %v");
  console->set_level(g.quiet ? spdlog::level::err : spdlog::level::from_str(g.log_level));
  auto logger = std::make_shared<spdlog::logger>("nettrain", console);
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void add_log_file(const std::string& path) {
  g_file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
  g_file_sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %l: %v");
  g_file_sink->set_level(spdlog::level::info);
  spdlog::default_logger()->sinks().push_back(g_file_sink);
}

void remove_log_file() {
  if (!g_file_sink) return;
  auto& sinks = spdlog::default_logger()->sinks();
  std::erase(sinks, g_file_sink);
  g_file_sink->flush();
  g_file_sink.reset();
}

void report_error(const std::string& message) {
  if (g_file_sink) g_file_sink->log(spdlog::details::log_msg("nettrain", spdlog::level::err, message));
  spdlog::default_logger()->flush();
  std::fprintf(stderr, "nettrain: error: %s\n", message.c_str());
}

}  // namespace nettrain::app
