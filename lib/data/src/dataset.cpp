// Dataset: u8 or float features turned into preprocessed float batches; subsets; label checks.
#include <algorithm>
#include <cmath>

#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"
#include "nettrain/core/parallel.h"

namespace nettrain {

std::string to_string(Task t) { return t == Task::classification ? "classification" : "regression"; }

Targets Batch::targets(Task task) const {
  Targets t;
  if (task == Task::classification) t.labels = std::span<const std::int32_t>(labels.data(), labels.size());
  else t.values = &values;
  return t;
}

const std::uint8_t* Dataset::u8_data() const {
  if (mapped) return mapped_u8 ? mapped->data() + mapped_offset : nullptr;
  return x_u8.empty() ? nullptr : x_u8.data();
}

const float* Dataset::f32_data() const {
  if (mapped) return mapped_u8 ? nullptr : reinterpret_cast<const float*>(mapped->data() + mapped_offset);
  return x_f32.empty() ? nullptr : x_f32.data();
}

float Dataset::feature(Index sample, Index j) const {
  const auto at = static_cast<std::size_t>(storage_row(sample) * num_features() + j);
  const std::uint8_t* u8 = u8_data();
  return u8 ? static_cast<float>(u8[at]) : f32_data()[at];
}

void Dataset::check_labels(int k) const {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= k)
      throw DataError(source + ": sample " + std::to_string(i) + ": label " + std::to_string(labels[i]) +
                      " is out of range: expected 0.." + std::to_string(k - 1) + " (" + std::to_string(k) +
                      " classes)");
  }
}

void Dataset::check_mapped() const {
  if (!mapped) return;
  if (mapped->unchanged_on_disk()) return;
  const std::int64_t now = mapped->size_on_disk();
  throw DataError(mapped->path() + ": the data file changed while in use: " +
                  (now == static_cast<std::int64_t>(mapped->size())
                       ? std::string("same size, modified since it was opened")
                       : "expected " + std::to_string(mapped->size()) + " bytes, found " + std::to_string(now)) +
                  " (truncated or rewritten in place; replace a data file by renaming a new one over it)");
}

void Dataset::fill_features(std::span<const Index> indices, const Preprocess& pp, Matrix& x) const {
  check_mapped();
  const Index f = num_features();
  const auto b = static_cast<Index>(indices.size());
  if (x.rows() != b || x.cols() != f) x.resize(b, f);
  // Rows are independent: fixed ranges of them over the pool (the gathers are memory-bound).
  const std::uint8_t* u8 = u8_data();
  const float* f32 = f32_data();
  const Index row_bytes = f * (u8 ? 1 : static_cast<Index>(sizeof(float)));
  const auto* base = u8 ? static_cast<const char*>(static_cast<const void*>(u8))
                        : static_cast<const char*>(static_cast<const void*>(f32));
  parallel_ranges(b, std::max<Index>(1, (Index{1} << 14) / std::max<Index>(f, 1)), [&](Index r0, Index r1) {
    // The rows are scattered over the data set, so every line is a cache (and often a TLB) miss:
    // asking for all of them first keeps many misses in flight instead of one row's at a time
    // (W1: the gather went from 16 % of a one-thread step to ~5 %).
    for (Index r = r0; r < r1; ++r) {
      const char* row = base + storage_row(indices[static_cast<std::size_t>(r)]) * row_bytes;
      for (Index off = 0; off < row_bytes; off += 64) __builtin_prefetch(row + off);
    }
    for (Index r = r0; r < r1; ++r) {
      const Index i = storage_row(indices[static_cast<std::size_t>(r)]);
      if (u8) pp.apply_row(u8 + i * f, x.row(r).data(), f);
      else pp.apply_row(f32 + i * f, x.row(r).data(), f);
    }
  });
}

void Dataset::fill_batch(std::span<const Index> indices, const Preprocess& pp, Batch& b) const {
  fill_features(indices, pp, b.x);
  const auto n = static_cast<Index>(indices.size());
  if (task == Task::classification) {
    b.labels.resize(indices.size());  // no reallocation once the capacity is there
    if (!labels.empty())
      for (std::size_t r = 0; r < indices.size(); ++r) b.labels[r] = labels[static_cast<std::size_t>(indices[r])];
  } else {
    const Index t = targets.cols();
    if (b.values.rows() != n || b.values.cols() != t) b.values.resize(n, t);
    if (t > 0)  // unlabelled data (predict) has no targets
      for (Index r = 0; r < n; ++r) b.values.row(r) = targets.row(indices[static_cast<std::size_t>(r)]);
  }
}

Dataset Dataset::subset(std::span<const Index> indices) const {
  Dataset d;
  d.source = source;
  d.num_samples = static_cast<Index>(indices.size());
  d.sample_shape = sample_shape;
  d.task = task;
  d.num_classes = num_classes;
  d.class_names = class_names;
  d.target_names = target_names;
  d.cache_note = cache_note;
  const auto f = static_cast<std::size_t>(num_features());
  const std::uint8_t* u8 = u8_data();
  const float* f32 = f32_data();
  if (mapped) {  // a view of the same map
    d.mapped = mapped;
    d.mapped_offset = mapped_offset;
    d.mapped_u8 = mapped_u8;
    auto r = std::make_shared<std::vector<Index>>(indices.size());
    for (std::size_t k = 0; k < indices.size(); ++k) (*r)[k] = storage_row(indices[k]);
    d.rows = std::move(r);
  } else if (u8) {
    d.x_u8.resize(indices.size() * f);
  } else {
    d.x_f32.resize(indices.size() * f);
  }
  for (std::size_t r = 0; r < indices.size(); ++r) {
    const auto i = static_cast<std::size_t>(indices[r]);
    if (!mapped && u8) std::copy_n(u8 + i * f, f, d.x_u8.data() + r * f);
    if (!mapped && !u8) std::copy_n(f32 + i * f, f, d.x_f32.data() + r * f);
    if (!labels.empty()) d.labels.push_back(labels[i]);
  }
  if (targets.size() > 0) {
    d.targets.resize(d.num_samples, targets.cols());
    for (Index r = 0; r < d.num_samples; ++r) d.targets.row(r) = targets.row(indices[static_cast<std::size_t>(r)]);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------

void Preprocess::fit(const Dataset& train) {
  mean_.clear();
  std_.clear();
  inv_std_.clear();
  if (!standardize) return;
  train.check_mapped();
  const Index f = train.num_features();
  const Index n = train.num_samples;
  if (n == 0) throw DataError(train.source + ": cannot fit standardize statistics on an empty dataset");
  // Sums in double: 60000 samples of values up to 255 lose nothing. One pass over the samples in
  // file order, so a mapped data set is streamed.
  std::vector<double> sum(static_cast<std::size_t>(f), 0.0), sq(static_cast<std::size_t>(f), 0.0);
  const std::uint8_t* u8 = train.u8_data();
  const float* f32 = train.f32_data();
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < f; ++j) {
      const auto at = static_cast<std::size_t>(train.storage_row(i) * f + j);
      const double v = static_cast<double>(u8 ? static_cast<float>(u8[at]) : f32[at]) * scale;
      sum[static_cast<std::size_t>(j)] += v;
      sq[static_cast<std::size_t>(j)] += v * v;
    }
  }
  std::vector<float> mean(static_cast<std::size_t>(f)), sd(static_cast<std::size_t>(f));
  for (std::size_t j = 0; j < sum.size(); ++j) {
    const double m = sum[j] / static_cast<double>(n);
    const double var = std::max(0.0, sq[j] / static_cast<double>(n) - m * m);
    mean[j] = static_cast<float>(m);
    sd[j] = static_cast<float>(std::sqrt(var));
  }
  set_stats(std::move(mean), std::move(sd));
}

void Preprocess::set_stats(std::vector<float> mean, std::vector<float> stddev) {
  for (float& s : stddev)
    if (!(s >= 1e-6f)) s = 1.0f;  // constant feature: centre only
  mean_ = std::move(mean);
  std_ = std::move(stddev);
  inv_std_.resize(std_.size());
  for (std::size_t j = 0; j < std_.size(); ++j) inv_std_[j] = 1.0f / std_[j];
}

nlohmann::json Preprocess::to_json() const {
  nlohmann::json j = {{"scale", scale}, {"standardize", standardize}};
  if (fitted()) {
    j["mean"] = mean_;
    j["std"] = std_;
  }
  return j;
}

Preprocess Preprocess::from_json(const nlohmann::json& j) {
  Preprocess p;
  try {
    if (!j.is_object()) throw ModelFileError("preprocess: expected an object, got " + describe_json(j));
    for (const auto& [k, v] : j.items())
      if (k != "scale" && k != "standardize" && k != "mean" && k != "std")
        throw ModelFileError("preprocess: unknown key \"" + k + "\"");
    p.scale = j.value("scale", 1.0);
    p.standardize = j.value("standardize", false);
    if (j.contains("mean") || j.contains("std")) {
      auto mean = j.at("mean").get<std::vector<float>>();
      auto sd = j.at("std").get<std::vector<float>>();
      if (mean.size() != sd.size())
        throw ModelFileError("preprocess: mean has " + std::to_string(mean.size()) + " values, std has " +
                             std::to_string(sd.size()));
      p.set_stats(std::move(mean), std::move(sd));
    }
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(std::string("preprocess: ") + e.what());
  }
  return p;
}

void Preprocess::check_features(Index num_features, const std::string& source) const {
  if (fitted() && static_cast<Index>(mean_.size()) != num_features)
    throw DataError(source + ": expected " + std::to_string(mean_.size()) +
                    " features (the standardize statistics), found " + std::to_string(num_features));
}

}  // namespace nettrain
