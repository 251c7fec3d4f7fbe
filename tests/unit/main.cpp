// The doctest main. The CSVs the tests read are cached (the data cache) in a folder of their own,
// removed at the end, never in the user's cache.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  std::string dir = (std::filesystem::temp_directory_path() / "nettrain-unit-cache.XXXXXX").string();
  if (::mkdtemp(dir.data()) != nullptr) ::setenv("NETTRAIN_CACHE", dir.c_str(), 1);
  doctest::Context context(argc, argv);
  const int rc = context.run();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
