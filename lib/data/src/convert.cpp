// `nettrain convert`: IDX -> CSV (header label,x0,x1,...) and CSV -> IDX (u8 or f32 images,
// u8 labels). Every output goes through write_file_atomic.
#include <charconv>
#include <cstring>

#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"

namespace nettrain {
namespace {

template <typename T>
void append_number(std::string& out, T v) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

void convert_idx_to_csv(const std::string& images, const std::string& labels, const std::string& out_csv) {
  const IdxArray img = read_idx(images);
  const std::uint64_t n = img.dims[0];
  const std::uint64_t f = n ? img.count() / n : 0;
  IdxArray lab;
  if (!labels.empty()) {
    lab = read_idx(labels);
    idx_labels(lab, labels, n, images);  // the checks only; the values are written as read
  }
  std::string out;
  out.reserve(static_cast<std::size_t>(n * f * 2 + f * 6 + 64));
  if (!labels.empty()) out += "label,";
  for (std::uint64_t j = 0; j < f; ++j) {
    if (j) out += ',';
    out += 'x';
    append_number(out, j);
  }
  out += '\n';
  const std::uint8_t* p = img.data.data();
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!labels.empty()) {
      append_number(out, static_cast<std::int64_t>(lab.at(i)));
      out += ',';
    }
    for (std::uint64_t j = 0; j < f; ++j) {
      if (j) out += ',';
      const std::uint64_t k = i * f + j;
      switch (img.type) {
        case IdxType::u8: append_number(out, static_cast<unsigned>(p[k])); break;
        case IdxType::f32: {
          float v;
          std::memcpy(&v, p + 4 * k, 4);
          append_number(out, v);  // shortest text that reads back to the same float
          break;
        }
        case IdxType::f64: append_number(out, img.at(k)); break;
        default: append_number(out, static_cast<std::int64_t>(img.at(k))); break;
      }
    }
    out += '\n';
  }
  write_file_atomic(out_csv, out);
}

CsvToIdxResult convert_csv_to_idx(const std::string& in_csv, const CsvOptions& opts, const std::optional<Shape>& shape,
                                  const std::string& prefix) {
  if (opts.task != Task::classification)
    throw ConfigError("convert: CSV -> IDX writes u8 class labels; regression targets are not supported");
  const Dataset d = read_csv(in_csv, opts);
  CsvToIdxResult r;
  r.num_samples = d.num_samples;
  r.u8 = d.is_u8();
  r.class_names = d.class_names;
  IdxArray img;
  img.dims.push_back(static_cast<std::uint64_t>(d.num_samples));
  if (shape) {
    if (shape->size() != d.num_features())
      throw ConfigError("convert: --shape " + shape->str() + " holds " + std::to_string(shape->size()) +
                        " values per sample, but " + in_csv + " has " + std::to_string(d.num_features()) + " features");
    for (Index v : shape->dims) img.dims.push_back(static_cast<std::uint64_t>(v));
  } else {
    img.dims.push_back(static_cast<std::uint64_t>(d.num_features()));
  }
  const auto values = static_cast<std::size_t>(d.num_samples * d.num_features());
  if (r.u8) {
    img.type = IdxType::u8;
    img.data.assign(d.u8_data(), d.u8_data() + values);
  } else {
    img.type = IdxType::f32;
    img.data.resize(values * 4);
    std::memcpy(img.data.data(), d.f32_data(), img.data.size());
  }
  r.images_path = prefix + "-images.idx";
  write_idx(r.images_path, img);
  if (d.has_labels()) {
    if (d.num_classes > 256)
      throw DataError(in_csv + ": u8 IDX labels hold at most 256 classes, found " + std::to_string(d.num_classes));
    IdxArray lab;
    lab.type = IdxType::u8;
    lab.dims = {static_cast<std::uint64_t>(d.num_samples)};
    lab.data.assign(d.labels.begin(), d.labels.end());
    r.labels_path = prefix + "-labels.idx";
    write_idx(r.labels_path, lab);
  }
  return r;
}

}  // namespace nettrain
