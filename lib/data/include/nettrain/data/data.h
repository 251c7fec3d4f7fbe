// The data layer: datasets in memory, IDX and CSV readers and writers, data specs from the
// config's "data" section, preprocessing (scale, then standardize) and the epoch order.
//
// A dataset holds N samples; its features are kept as u8 when the source is u8 (IDX u8 images,
// CSV whose every feature is an integer 0..255) and as float otherwise, and are turned into a
// float batch on the fly:
//
//   x[b, j] = (raw[indices[b], j] * scale - mean[j]) / std[j]     x: (batch, features)
//
// (mean 0 and std 1 when standardize is off). Every failure throws: DataError for bad data,
// IoError for a file that cannot be read or written, ConfigError for bad data-spec keys. Messages
// name the file and the position (line:column in a CSV, byte offset in an IDX) and say expected
// vs found. The library never prints.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nettrain/core/config_node.h"
#include "nettrain/core/files.h"
#include "nettrain/core/mapped_file.h"
#include "nettrain/core/rng.h"
#include "nettrain/core/tensor.h"

namespace nettrain {

enum class Task { classification, regression };
std::string to_string(Task t);  // "classification" | "regression"

class Preprocess;

// Targets of a batch: class labels for classification, a value matrix for regression (and for
// multi-label sigmoid_binary_cross_entropy). Exactly one of the two is used by a loss.
struct Targets {
  std::span<const std::int32_t> labels;  // (batch) class indices 0..K-1
  const Matrix* values = nullptr;        // (batch, out)
};

// One batch, sized once per batch size: fill_batch reuses the buffers without allocating.
struct Batch {
  Matrix x;                          // (batch, features)
  std::vector<std::int32_t> labels;  // (batch) class indices, classification
  Matrix values;                     // (batch, targets), regression
  // The view a Loss takes: labels for classification, values for regression.
  Targets targets(Task task) const;
};

struct Dataset {
  std::string source;  // file name(s), for messages
  Index num_samples = 0;
  Shape sample_shape;  // [784], or [28, 28] from IDX dims
  // Features, row-major (num_samples, num_features): in exactly one of x_u8 and x_f32, or, for
  // an uncompressed u8 IDX file and the data cache, in `mapped` from byte `mapped_offset` on (u8
  // or host-order f32 as `mapped_u8` says), read a batch at a time (NETTRAIN_MMAP=0 reads them
  // into x_u8/x_f32 instead).
  std::vector<std::uint8_t> x_u8;
  std::vector<float> x_f32;
  std::shared_ptr<const MappedFile> mapped;
  std::size_t mapped_offset = 0;
  bool mapped_u8 = true;
  // A subset of mapped features is a view: sample i is row (*rows)[i] of the mapped file.
  std::shared_ptr<const std::vector<Index>> rows;
  // What the data cache did for this CSV ("hit PATH", "written PATH", ...); "" otherwise.
  std::string cache_note;

  Task task = Task::classification;
  std::vector<std::int32_t> labels;       // (N), classification; empty when unlabeled
  int num_classes = 0;                    // K: labels are in 0..K-1
  std::vector<std::string> class_names;   // K names when the source had string labels, else empty
  Matrix targets;                         // (N, T), regression
  std::vector<std::string> target_names;  // T column names (CSV with a header), else empty

  Index num_features() const { return sample_shape.size(); }
  bool is_u8() const { return mapped ? mapped_u8 : !x_u8.empty() || (x_f32.empty() && num_samples == 0); }
  // The features' storage, row-major, wherever it is; nullptr for the other type. Sample i is
  // its row storage_row(i) (i itself unless this is a subset of a mapped file).
  const std::uint8_t* u8_data() const;
  const float* f32_data() const;
  Index storage_row(Index i) const { return rows ? (*rows)[static_cast<std::size_t>(i)] : i; }
  // The file the features are read from while training (a mapped file), else nullptr.
  const MappedFile* mapped_file() const { return mapped.get(); }
  bool has_labels() const { return !labels.empty(); }
  Index num_targets() const { return targets.cols(); }
  float feature(Index sample, Index j) const;  // raw value, before preprocessing

  // Throws DataError naming the first sample whose label is outside 0..num_classes-1.
  void check_labels(int num_classes) const;

  // Throws DataError when the mapped file's size on disk is no longer the size mapped (it was
  // truncated or rewritten in place: reading on would fault). A deleted file is fine: its data
  // stays mapped. Called by fill_features.
  void check_mapped() const;

  // The hot path: fills x (and labels or values) for the samples `indices`, converting u8 to
  // float and applying `pp`. No allocation when the batch size is unchanged.
  void fill_features(std::span<const Index> indices, const Preprocess& pp, Matrix& x) const;
  void fill_batch(std::span<const Index> indices, const Preprocess& pp, Batch& b) const;

  // A new dataset of the given samples, in that order (labels, names and targets follow). Its
  // features are a copy, or, from a mapped file, a view of the same map (no copy).
  Dataset subset(std::span<const Index> indices) const;
};

// ---------------------------------------------------------------------------------------------
// Preprocessing: scale, then standardize with per-feature statistics fitted on training data.
class Preprocess {
 public:
  double scale = 1.0;
  bool standardize = false;

  // Fits mean/std per feature of `train` after scaling (no-op unless standardize is on). A
  // feature whose std is below 1e-6 (a constant pixel) gets std 1, so it is only centred.
  void fit(const Dataset& train);
  bool fitted() const { return !mean_.empty(); }
  const std::vector<float>& mean() const { return mean_; }
  const std::vector<float>& stddev() const { return std_; }
  void set_stats(std::vector<float> mean, std::vector<float> stddev);

  // {"scale": s, "standardize": b, "mean": [...], "std": [...]} (mean/std only when fitted).
  nlohmann::json to_json() const;
  // Throws ModelFileError on a malformed object (it is read back from a model file).
  static Preprocess from_json(const nlohmann::json& j);

  // Throws DataError unless the fitted stats (if any) cover `num_features` features.
  void check_features(Index num_features, const std::string& source) const;

  // out[j] = (in[j] * scale - mean[j]) / std[j] for one sample row.
  template <typename T>
  void apply_row(const T* in, float* out, Index n) const;

 private:
  std::vector<float> mean_, std_, inv_std_;
};

// ---------------------------------------------------------------------------------------------
// IDX: magic 0 0 type ndims, ndims big-endian u32 dims, big-endian elements. Raw or gzip
// (detected by the magic bytes 1f 8b, not by the name).
enum class IdxType : std::uint8_t { u8 = 0x08, i8 = 0x09, i16 = 0x0B, i32 = 0x0C, f32 = 0x0D, f64 = 0x0E };
std::size_t idx_type_size(IdxType t);
std::string idx_type_name(IdxType t);  // "u8", "i8", "i16", "i32", "f32", "f64"

struct IdxHeader {
  IdxType type = IdxType::u8;
  std::vector<std::uint64_t> dims;
  bool gzip = false;
  std::uint64_t count() const;  // product of dims (checked when read)
};

struct IdxArray {
  IdxType type = IdxType::u8;
  std::vector<std::uint64_t> dims;
  std::vector<std::uint8_t> data;  // count() elements in host byte order
  std::uint64_t count() const;
  double at(std::uint64_t i) const;  // any element type as double
  std::vector<float> to_float() const;
};

// Reads only the header (for gzip: only the first bytes are inflated).
IdxHeader read_idx_header(const std::string& path);
IdxArray read_idx(const std::string& path);
// The class labels held in `lab` (read from `path`) for the `num_samples` images of `images`:
// an integer element type, dims [N] or [N, 1] with N == num_samples, every label in
// 0..2000000000. The one place these checks are written.
std::vector<std::int32_t> idx_labels(const IdxArray& lab, const std::string& path, std::uint64_t num_samples,
                                     const std::string& images);
// Written to a temporary name in the same folder, then renamed.
void write_idx(const std::string& path, const IdxArray& a, bool gzip = false);

// Images [N, ...] (any element type) and optional labels [N] (any integer type). `labels` may
// be "". num_classes = max label + 1.
Dataset load_idx(const std::string& images, const std::string& labels);

// ---------------------------------------------------------------------------------------------
// CSV.
enum class CsvHeader { yes, no, autodetect };

// A column by name (needs a header) or by 0-based index (negative: from the end, -1 = last).
struct ColumnRef {
  std::string name;
  std::int64_t index = -1;
  bool by_name() const { return !name.empty(); }
  std::string str() const;
  // "3" or "-1": by index; anything else: by name (a flag's text, e.g. --label-column).
  static ColumnRef parse(const std::string& text);
};

struct CsvOptions {
  CsvHeader header = CsvHeader::autodetect;
  char delimiter = ',';
  bool labeled = true;  // false: every column is a feature (no label, no targets)
  // The label column. When unset: a header column named "label" (what `convert` writes), else
  // fallback_label_column (a saved model's label column index), else the last column.
  std::optional<ColumnRef> label_column;
  std::optional<ColumnRef> fallback_label_column;
  Task task = Task::classification;
  std::vector<ColumnRef> target_columns;  // regression; default: the label column (as above)
  int num_classes = 0;                    // 0: max integer label + 1, or the number of names
};

// Reads the whole file (memory-mapped). Features in [0, 255] that are all integers are kept as
// u8. The rows are parsed in chunks of about 2 MiB cut at line starts, over the thread pool: the
// cuts depend on the file alone and the result (values, errors, line numbers: the earliest error
// in the file wins) is the same as one pass on one thread.
Dataset read_csv(const std::string& path, const CsvOptions& opts);
// Parses CSV text held in memory; `name` is used in messages.
Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& opts);
// The same with chunks of `chunk_bytes` (tests cut small texts everywhere with it): the result
// does not depend on it.
Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& opts, std::size_t chunk_bytes);
// The fields of the first row of `text`, split as parse_csv splits them (quotes and spaces
// removed); `name` is used in messages.
std::vector<std::string> csv_row_fields(std::string_view text, char delimiter, const std::string& name);

// ---------------------------------------------------------------------------------------------
// The data cache (README "Data cache"): the first read of a CSV writes a typed binary copy (u8
// or f32 features, labels, targets, class and target names) to data_cache_dir(); later reads
// check it (format version, size, checksum, and the key: the CSV's path, size, mtime, a content
// hash of its first and last 256 KiB and 64 sampled blocks, the CSV options) and map it instead
// of parsing. A missing, stale, truncated, other-version or corrupt cache file is rebuilt; one
// that cannot be written is skipped (Dataset::cache_note says so: callers warn, never fail).

// Process-wide switch, on by default (`--no-cache` turns it off).
void set_data_cache(bool enabled);
bool data_cache_enabled();
// $NETTRAIN_CACHE, else $XDG_CACHE_HOME/nettrain/data, else $HOME/.cache/nettrain/data.
std::string data_cache_dir();
// False when the environment has NETTRAIN_MMAP=0: raw IDX files and cache files are then read
// into memory instead of mapped (same results).
bool data_mmap_enabled();
// read_csv through the cache; sets cache_note to "off", "hit FILE", "written FILE",
// "rebuilt (WHY) FILE" or "not written: WHY".
Dataset read_csv_cached(const std::string& path, const CsvOptions& opts);

// ---------------------------------------------------------------------------------------------
// Data specs: the "data" section of the config (SPEC §3).
struct DataSpec {
  std::string format;          // "idx" | "csv"
  std::string images, labels;  // idx, resolved paths (labels may be "")
  std::string path;            // csv, resolved path
  CsvOptions csv;
  std::string where;  // "config.json: /data/train", for messages
};

// Reads one {"format": ..., ...} object; relative paths are taken from `base_dir`. Format is
// inferred when absent: "images" -> idx, "path" -> csv.
DataSpec parse_data_spec(const ConfigNode& node, const std::string& base_dir);
Dataset load_dataset(const DataSpec& spec);

struct DataBundle {
  Dataset train;
  std::optional<Dataset> validation;
  std::optional<Dataset> test;
  Preprocess preprocess;  // fitted on train only
};

// Loads train/validation/test, splits validation from train when asked, harmonizes classes
// across splits (string classes map by name to train's; integer K is the largest of the
// splits'), and fits the preprocessing on train.
DataBundle load_data(const ConfigNode& data_node, const std::string& base_dir, std::uint64_t seed);

// Splits `all` into (train, validation): a seeded shuffle, stratified by class for
// classification, so each class gives round(fraction * its count) samples to validation.
std::pair<Dataset, Dataset> split_validation(const Dataset& all, double fraction, std::uint64_t seed);

// What `validate` prints, without training. IDX images are read header-only; label files and
// CSVs are loaded.
struct SplitSummary {
  std::string name;  // "train" | "validation" | "test"
  std::string format, source;
  Index num_samples = 0;
  Shape sample_shape;
  Task task = Task::classification;
  int num_classes = 0;
  Index num_targets = 0;
};
struct DataSummary {
  std::vector<SplitSummary> splits;
  Preprocess preprocess;  // unfitted: scale and standardize flag only
};
DataSummary inspect_data(const ConfigNode& data_node, const std::string& base_dir);

// ---------------------------------------------------------------------------------------------
// Epoch order: a fresh permutation per epoch (Fisher–Yates with Rng::below), or the identity
// when shuffle is off. The last partial batch is used. The state is the Rng state at the start
// of the current epoch, the epoch and the position in it: restoring it rebuilds the permutation
// and continues the identical order.
struct SamplerState {
  Rng::State rng{};
  std::uint64_t epoch = 0;
  std::uint64_t position = 0;
  nlohmann::json to_json() const;
  static SamplerState from_json(const nlohmann::json& j);  // throws ModelFileError
};

class BatchSampler {
 public:
  BatchSampler(Index num_samples, Index batch_size, bool shuffle, std::uint64_t seed);

  // Fills `indices` with the next batch of the current epoch and returns true; at the end of the
  // epoch returns false and moves to the next epoch (new permutation, position 0).
  bool next(std::vector<Index>& indices);
  Index batches_per_epoch() const { return (n_ + batch_ - 1) / batch_; }
  std::uint64_t epoch() const { return epoch_; }
  std::uint64_t position() const { return position_; }

  SamplerState state() const;
  void restore(const SamplerState& s);  // throws DataError if the position is out of range

 private:
  void build_order();
  Index n_, batch_;
  bool shuffle_;
  Rng rng_;
  Rng::State epoch_start_{};
  std::uint64_t epoch_ = 0, position_ = 0;
  std::vector<Index> order_;
};

// ---------------------------------------------------------------------------------------------
// Convert (SPEC §2 `nettrain convert`). Files are written to a temporary name and renamed.

// IDX -> CSV with header `label,x0,x1,...` (label column only when `labels` is not "").
void convert_idx_to_csv(const std::string& images, const std::string& labels, const std::string& out_csv);

struct CsvToIdxResult {
  std::string images_path, labels_path;  // labels_path "" when there are no labels
  bool u8 = false;                       // images written as u8 (else f32)
  Index num_samples = 0;
  std::vector<std::string> class_names;  // when labels were strings: index -> name
};
// CSV -> PREFIX-images.idx (u8 when every value is an integer 0..255, else f32; dims N,shape
// when `shape` is given, else N,features) and PREFIX-labels.idx (u8).
CsvToIdxResult convert_csv_to_idx(const std::string& in_csv, const CsvOptions& opts, const std::optional<Shape>& shape,
                                  const std::string& prefix);

// ---------------------------------------------------------------------------------------------
template <typename T>
void Preprocess::apply_row(const T* in, float* out, Index n) const {
  const float s = static_cast<float>(scale);
  if (mean_.empty()) {
    for (Index j = 0; j < n; ++j) out[j] = static_cast<float>(in[j]) * s;
  } else {
    const float* m = mean_.data();
    const float* inv = inv_std_.data();
    for (Index j = 0; j < n; ++j) out[j] = (static_cast<float>(in[j]) * s - m[j]) * inv[j];
  }
}

}  // namespace nettrain
