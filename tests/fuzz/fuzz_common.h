// Shared by the libFuzzer targets: the library's typed errors are the expected way to reject
// bad input; anything else escaping (std::out_of_range, nlohmann exceptions, ...) is a bug that
// the CLI would report as "internal error" with the wrong exit code, so it aborts the fuzzer.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "nettrain/core/errors.h"

namespace fuzz {

template <typename F>
void expect_typed_errors(F&& f) {
  try {
    f();
  } catch (const nettrain::Error&) {
    // rejected cleanly
  } catch (const std::exception& e) {
    std::fprintf(stderr, "untyped exception escaped: %s\n", e.what());
    std::abort();
  }
}

// Some readers take a path: the input goes to a per-process scratch file.
inline std::string scratch_file(const std::uint8_t* data, std::size_t size, const char* suffix) {
  static const std::string path = std::string("/tmp/nettrain-fuzz-") + std::to_string(::getpid()) + suffix;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace fuzz
