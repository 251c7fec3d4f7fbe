// nettrain convert: IDX -> CSV (`label,x0,x1,...`), or CSV -> IDX with --to idx.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdio>

#include "commands.h"
#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"

namespace nettrain::app {

namespace {

Shape parse_shape(const std::string& text) {
  std::vector<Index> dims;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    long long v = 0;
    const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || p != part.data() + part.size() || v <= 0)
      throw ConfigError("--shape " + text + ": expected positive sizes like 28,28, got \"" + part + "\"");
    dims.push_back(static_cast<Index>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Shape(dims);
}

}  // namespace

int cmd_convert(const GlobalOptions& g, const ConvertArgs& a) {
  nlohmann::json out;
  if (a.to == "idx") {
    CsvOptions opts;
    if (!a.label_column.empty()) opts.label_column = ColumnRef::parse(a.label_column);
    std::optional<Shape> shape;
    if (!a.shape.empty()) shape = parse_shape(a.shape);
    const CsvToIdxResult r = convert_csv_to_idx(a.input, opts, shape, a.output);
    out = {{"images", r.images_path}, {"labels", r.labels_path}, {"samples", r.num_samples},
           {"dtype", r.u8 ? "u8" : "f32"}, {"class_names", r.class_names}};
    if (!g.json)
      spdlog::info("wrote {} ({} samples, {}){}", r.images_path, r.num_samples, r.u8 ? "u8" : "f32",
                   r.labels_path.empty() ? "" : " and " + r.labels_path);
  } else {
    if (!a.shape.empty() || !a.label_column.empty())
      throw ConfigError("--shape and --label-column apply to CSV -> IDX (--to idx)");
    convert_idx_to_csv(a.input, a.labels, a.output);
    out = {{"csv", a.output}};
    if (!g.json) spdlog::info("wrote {}", a.output);
  }
  if (g.json) std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace nettrain::app
