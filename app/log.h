// Log sinks (stderr, and train.log inside a run directory) and the one error line per failure.
#pragma once

#include <string>

#include "commands.h"

namespace nettrain::app {

void setup_logging(const GlobalOptions& g);
// Adds a file sink that receives every message at info level or above (train.log).
void add_log_file(const std::string& path);
void remove_log_file();
// Prints "nettrain: error: <message>" on stderr (also into train.log when attached).
void report_error(const std::string& message);
bool stderr_is_tty();

}  // namespace nettrain::app
