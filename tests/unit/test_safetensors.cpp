// safetensors: round trip, and every malformed header is a ModelFileError that says what.
// Model files: a saved network loads back into the same weights; a tensor whose shape does not
// match the stored architecture is refused.
#include <doctest/doctest.h>

#include <cstring>

#include "data_fixtures.h"
#include "nettrain/core/errors.h"
#include "nettrain/core/files.h"
#include "nettrain/run/model_file.h"
#include "nettrain/io/safetensors.h"

using namespace nettrain;
using json = nlohmann::json;

namespace {

std::string file_with_header(const std::string& header, const std::string& data = "") {
  std::string out(8, '\0');
  const std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

std::string model_error(const std::string& bytes) {
  try {
    SafetensorsFile::parse(bytes, "m.safetensors");
  } catch (const ModelFileError& e) {
    return e.what();
  }
  return "(no ModelFileError)";
}

}  // namespace

TEST_CASE("safetensors: what is written reads back, 8-byte aligned") {
  SafetensorsWriter w;
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  const std::vector<float> b = {-0.5f};
  w.add_f32("layer.weight", {2, 3}, a.data());
  w.add_f32("layer.bias", {1}, b.data());
  w.set_metadata("format", "test");
  const std::string bytes = w.serialize();
  const SafetensorsFile f = SafetensorsFile::parse(bytes, "x");
  CHECK(f.header_length() % 8 == 0);
  CHECK(f.metadata().at("format") == "test");
  REQUIRE(f.tensors().size() == 2);
  std::vector<float> back(6);
  f.read_f32("layer.weight", {2, 3}, back);
  CHECK(back == a);
  CHECK_THROWS_WITH_AS(f.read_f32("layer.weight", {3, 2}, back),
                       "x: tensor \"layer.weight\": expected shape [3, 2], got [2, 3]", ModelFileError);
  CHECK_THROWS_WITH_AS(f.read_f32("missing", {1}, back), "x: tensor \"missing\" is missing", ModelFileError);

  // write() streams the header and each tensor from its memory: the file holds the same bytes.
  test_data::TempDir dir;
  const std::string path = dir.file("w.safetensors");
  w.write(path, false);
  CHECK(read_file(path) == bytes);
}

TEST_CASE("safetensors: malformed files say what is wrong") {
  CHECK(model_error("") == "m.safetensors: file is 0 bytes; a safetensors file starts with an 8-byte header length");
  CHECK(model_error(std::string(8, '\xff')).find("exceeds the limit") != std::string::npos);
  std::string short_header(8, '\0');
  short_header[0] = 100;
  CHECK(model_error(short_header + "{}").find("header length 100 at byte 0 is larger than the 2 bytes") !=
        std::string::npos);
  CHECK(model_error(file_with_header("{not json")).find("header is not valid JSON") != std::string::npos);
  CHECK(model_error(file_with_header("[1,2]")) == "m.safetensors: header is not a JSON object");
  CHECK(model_error(file_with_header(R"({"t": {"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}})", "abcd")) ==
        "m.safetensors: tensor \"t\": unknown dtype \"F33\"");
  CHECK(model_error(file_with_header(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", "abcd")) ==
        "m.safetensors: tensor \"t\": data_offsets [0, 8] fall outside the data section of 4 bytes");
  CHECK(model_error(file_with_header(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", "abcd")) ==
        "m.safetensors: tensor \"t\": shape [2] of F32 needs 8 bytes, data_offsets give 4");
  CHECK(model_error(file_with_header(R"({"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", "abcd"))
            .find("expected a non-negative integer") != std::string::npos);
  CHECK(model_error(file_with_header(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                        "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                                     "abcdefgh"))
            .find("overlap") != std::string::npos);
  CHECK(model_error(file_with_header(R"({"__metadata__": {"k": 1}})")) ==
        "m.safetensors: __metadata__/k is not a string");
  CHECK(model_error(file_with_header(R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296],
                                        "data_offsets": [0, 4]}})",
                                     "abcd"))
            .find("overflows") != std::string::npos);
}

TEST_CASE("model file: a saved network loads back; a wrong shape is refused") {
  test_data::TempDir dir;
  const json j = json::parse(R"({"data": {"train": {"path": "x.csv"}},
      "model": {"input_shape": [3], "layers": [{"type": "affine", "units": 4, "name": "fc"},
                {"type": "batchnorm", "name": "bn"}, {"type": "affine", "units": 2, "name": "out"}]}})");
  const Config config = config_from_json(j, "c.json", ".");
  Experiment ex = build_experiment(config);
  ex.net.init_params(9);
  ex.net.buffers().setRandom();
  ModelMetadata meta;
  meta.class_names = {"cat", "dog"};
  const std::string path = dir.file("m.safetensors");
  model_writer(ex.net, config, meta).write(path);
  const LoadedModel m = load_model(path);
  CHECK(m.net.params() == ex.net.params());
  CHECK(m.net.buffers() == ex.net.buffers());
  CHECK(m.meta.class_names == json({"cat", "dog"}));
  CHECK(m.loss->type() == "softmax_cross_entropy");

  // The same tensors under an architecture with a wider first layer do not fit.
  json wider = j;
  wider["model"]["layers"][0]["units"] = 5;
  SafetensorsWriter w = model_writer(ex.net, config_from_json(wider, "c.json", "."), meta);
  w.write(path);
  CHECK_THROWS_WITH_AS(load_model(path), (path + ": tensor \"fc.weight\": expected shape [3, 5], got [3, 4]").c_str(),
                       ModelFileError);
  // Not a nettrain file at all.
  SafetensorsWriter plain;
  const float one = 1;
  plain.add_f32("x", {1}, &one);
  plain.write(path);
  CHECK_THROWS_WITH_AS(load_model(path),
                       (path + ": __metadata__ has no \"format\" (not a nettrain model file?)").c_str(),
                       ModelFileError);
}
