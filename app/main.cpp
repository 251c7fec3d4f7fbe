// nettrain: the command-line entry point. CLI wiring only; the work is in lib/.
#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"nettrain: train neural networks from JSON configs"};
  app.set_version_flag("--version", std::string("nettrain ") + NETTRAIN_VERSION);
  CLI11_PARSE(app, argc, argv);
  std::cout << app.help();
  return 0;
}
