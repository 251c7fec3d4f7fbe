// libFuzzer target: safetensors bytes through SafetensorsFile::parse, and load_model's checks
// of the stored config, architecture and tensors.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "nettrain/run/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_typed_errors([&] {
    nettrain::SafetensorsFile f =
        nettrain::SafetensorsFile::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
    for (const auto& t : f.tensors()) {
      if (t.dtype != "F32") continue;
      std::vector<nettrain::Index> shape(t.shape.begin(), t.shape.end());
      std::vector<float> out((t.end - t.begin) / sizeof(float));
      f.read_f32(t.name, shape, out);
    }
  });
  const std::string path = fuzz::scratch_file(data, size, ".safetensors");
  fuzz::expect_typed_errors([&] { (void)nettrain::load_model(path); });
  return 0;
}
