// libFuzzer target: config text -> parse_json_text -> config_from_json -> build_experiment.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "nettrain/run/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_typed_errors([&] {
    nlohmann::json j = nettrain::parse_json_text(text, "fuzz.json");
    nettrain::Config config = nettrain::config_from_json(std::move(j), "fuzz.json", "/nonexistent");
    [[maybe_unused]] nettrain::Experiment ex = nettrain::build_experiment(config);
  });
  return 0;
}
