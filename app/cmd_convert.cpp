// nettrain convert: IDX -> CSV (`label,x0,x1,...`), or CSV -> IDX with --to idx.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cstdio>

#include "commands.h"
#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"

namespace nettrain::app {

namespace {

Shape parse_shape(const std::vector<Index>& dims) {
  for (const Index v : dims)
    if (v <= 0)
      throw ConfigError(fmt::format("--shape {}: expected positive sizes like 28,28, got {}", fmt::join(dims, ","), v));
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
    out = {{"images", r.images_path},
           {"labels", r.labels_path},
           {"samples", r.num_samples},
           {"dtype", r.u8 ? "u8" : "f32"},
           {"class_names", r.class_names}};
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
